// What the healing controller does about one crashed instance, a pure function of its memory of
// that instance and the clock: restart it with a backoff, at most `maxRestarts` times per
// window; then replace it when it belongs to a group (the group creates a new one in its slot),
// or give up until the window ends.

/** The healing controller's memory of one instance (stratus_healing). */
export interface HealState {
  readonly windowStart: number;
  readonly restarts: number;
  /** No action before this time (ms since the Unix epoch): the backoff. */
  readonly nextAt: number;
  readonly lastAction: HealAction;
}

/** What to do now. */
export type HealAction = 'restart' | 'replace' | 'exhausted';

/** Limits of {@link healStep}. */
export interface HealingLimits {
  /** Default 10 minutes. */
  readonly windowMs: number;
  /** Restarts per window; default 3. */
  readonly maxRestarts: number;
  /** The wait after the first restart, doubled after each; default 2 s. */
  readonly backoffMs: number;
  /** Default 60 s. */
  readonly maxBackoffMs: number;
}

/** The default limits. */
export const DEFAULT_HEALING_LIMITS: HealingLimits = {
  windowMs: 600_000,
  maxRestarts: 3,
  backoffMs: 2_000,
  maxBackoffMs: 60_000,
};

/** The action for a crashed instance now and the state after it; undefined: wait. */
export function healStep(
  previous: HealState | undefined,
  owned: boolean,
  now: number,
  limits: HealingLimits = DEFAULT_HEALING_LIMITS,
): { action: HealAction; state: HealState } | undefined {
  const state =
    !previous || now - previous.windowStart >= limits.windowMs
      ? { windowStart: now, restarts: 0, nextAt: now, lastAction: previous?.lastAction ?? 'restart' }
      : previous;
  if (now < state.nextAt) return undefined;
  if (state.restarts < limits.maxRestarts) {
    const backoff = Math.min(limits.maxBackoffMs, limits.backoffMs * 2 ** state.restarts);
    return {
      action: 'restart',
      state: { ...state, restarts: state.restarts + 1, nextAt: now + backoff, lastAction: 'restart' },
    };
  }
  if (owned)
    return {
      action: 'replace',
      state: { ...state, nextAt: now + limits.maxBackoffMs, lastAction: 'replace' },
    };
  if (state.lastAction === 'exhausted') return undefined;
  return {
    action: 'exhausted',
    state: { ...state, nextAt: state.windowStart + limits.windowMs, lastAction: 'exhausted' },
  };
}
