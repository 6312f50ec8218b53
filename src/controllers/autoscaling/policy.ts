// The autoscaling decision for one group, a pure function of what the pass read: the spec, the
// controller's own state, the running children's mean CPU and the clock. No I/O, so the tests
// drive it with any clock.

/** The part of a group's spec a decision reads. */
export interface GroupSizing {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desired: number;
  readonly policy?: { readonly targetCpuPercent: number; readonly cooldownSeconds: number };
  readonly scaleInProtection?: boolean;
}

/** What the controller keeps per group (stratus_autoscaling). */
export interface ScalingState {
  readonly desired: number;
  /** The group generation `desired` was last taken from the spec at. */
  readonly specGeneration: number;
  /** When the size last changed (ms since the Unix epoch): the cooldown runs from here. */
  readonly lastScaledAt: number;
}

/** What the pass saw of the group's instances. */
export interface GroupObservation {
  /** Children running in the backend. */
  readonly running: number;
  /** Their mean CPU in percent; undefined with no sample. */
  readonly cpuPercent: number | undefined;
}

/** One decision: the size went from `from` to `to`, and why. */
export interface Decision {
  readonly from: number;
  readonly to: number;
  /** One CamelCase word: Created, SpecChanged, CpuAboveTarget, CpuBelowTarget. */
  readonly reason: string;
  readonly message: string;
}

/** The next state and, when the size changed (or was first set), the decision. */
export interface Outcome {
  readonly state: ScalingState;
  readonly decision?: Decision;
}

/**
 * Within this fraction of the target the policy does nothing (Kubernetes' HPA uses 0.1): a mean
 * CPU that wobbles around the target does not flap the size.
 */
export const TOLERANCE = 0.1;

const clamp = (n: number, s: GroupSizing) => Math.min(s.maxSize, Math.max(s.minSize, n));

/**
 * Decides the group's size. A new generation of the group (created, PATCHed, the `scale`
 * action) takes `desired` from the spec. Otherwise, with a policy and running children, the size
 * tracks the CPU target: `ceil(running × cpu / target)`, outside the tolerance only, not before
 * the cooldown since the last change, never below minSize nor above maxSize, and never down
 * under scale-in protection.
 */
export function decide(
  spec: GroupSizing,
  generation: number,
  state: ScalingState | undefined,
  seen: GroupObservation,
  now: number,
): Outcome {
  if (!state || state.specGeneration !== generation) {
    const to = clamp(spec.desired, spec);
    const from = state?.desired ?? 0;
    return {
      state: { desired: to, specGeneration: generation, lastScaledAt: now },
      decision: state
        ? { from, to, reason: 'SpecChanged', message: `generation ${generation} asks for ${spec.desired}` }
        : { from, to, reason: 'Created', message: `the group starts at ${to}` },
    };
  }
  // The bounds change only with a new generation (above), so the state is within them.
  const current = state.desired;
  const policy = spec.policy;
  if (!policy || seen.running === 0 || seen.cpuPercent === undefined) return { state };
  const ratio = seen.cpuPercent / policy.targetCpuPercent;
  const cooled = now - state.lastScaledAt >= policy.cooldownSeconds * 1000;
  if (Math.abs(ratio - 1) <= TOLERANCE || !cooled) return { state };
  const cpu = `mean CPU ${seen.cpuPercent.toFixed(1)}% of ${seen.running} running against a target of ${policy.targetCpuPercent}%`;
  // Out: from the running ones' load (booting ones carry none yet). In: only once every
  // instance of the current size runs, so one still booting is not counted as idle capacity.
  const wanted = clamp(Math.ceil(seen.running * ratio), spec);
  if (ratio > 1 && wanted > current)
    return {
      state: { ...state, desired: wanted, lastScaledAt: now },
      decision: { from: current, to: wanted, reason: 'CpuAboveTarget', message: cpu },
    };
  if (ratio < 1 && wanted < current && seen.running >= current && !spec.scaleInProtection)
    return {
      state: { ...state, desired: wanted, lastScaledAt: now },
      decision: { from: current, to: wanted, reason: 'CpuBelowTarget', message: cpu },
    };
  return { state };
}
