import { hasCode } from '../errors.js';
/**
 * The errors of leader election. Each has a stable `code` and a type guard that checks the
 * code, not the prototype, so two copies of this module still recognise each other's errors.
 */

/** Codes of the errors below. */
export const LeaderErrorCode = {
  staleEpoch: 'STALE_EPOCH',
  fenceDeadline: 'FENCE_DEADLINE',
  leadershipLost: 'LEADERSHIP_LOST',
  election: 'ELECTION_FAILED',
} as const;

/**
 * Why a fenced write was refused: a newer term began (`superseded`), or the term's epoch is
 * still the latest but the session that held its lock has lost it (`lock-lost`), so a
 * successor may be about to begin its term.
 */
export type StaleReason = 'superseded' | 'lock-lost';

/**
 * A write carried an epoch that is no longer the key's current one: a newer leader has been
 * elected since, or the term's lock is gone. The write was not performed. Never retry it
 * with the same epoch.
 */
export class StaleEpochError extends Error {
  readonly code = LeaderErrorCode.staleEpoch;
  override readonly name = 'StaleEpochError';

  constructor(
    /** The leadership key the write was fenced by. */
    readonly key: string,
    /** The epoch the caller carried. */
    readonly epoch: number,
    /** The key's current epoch (undefined when no term was ever begun). */
    readonly currentEpoch: number | undefined,
    readonly reason: StaleReason = 'superseded',
  ) {
    super(
      reason === 'lock-lost'
        ? `epoch ${epoch} of leadership key ${key} has lost its lock`
        : `stale epoch ${epoch} for leadership key ${key} (current: ${currentEpoch ?? 'none'})`,
    );
  }
}

/**
 * A fenced transaction outlived its client-side deadline (`fencedDeadlineMs`): the call
 * gave up and the transaction sends nothing more. If the deadline struck during COMMIT the
 * outcome is unknown; otherwise nothing was written.
 */
export class FenceDeadlineError extends Error {
  readonly code = LeaderErrorCode.fenceDeadline;
  override readonly name = 'FenceDeadlineError';

  constructor(
    readonly key: string,
    readonly epoch: number,
    readonly deadlineMs: number,
  ) {
    super(`fenced transaction of ${key} (epoch ${epoch}) passed its ${deadlineMs} ms deadline`);
  }
}

export function isFenceDeadlineError(err: unknown): err is FenceDeadlineError {
  return hasCode(err, LeaderErrorCode.fenceDeadline);
}

export function isStaleEpochError(err: unknown): err is StaleEpochError {
  return hasCode(err, LeaderErrorCode.staleEpoch);
}

/** Why a term ended. */
export type LossReason =
  /** The lock session ended or failed (terminated, network error, server restart). */
  | 'session-lost'
  /** No heartbeat succeeded within the renew deadline (hang, partition, overload). */
  | 'renew-deadline'
  /** The heartbeat found the lock no longer held by the session. */
  | 'lock-missing'
  /** The leader gave the key up (clean shutdown, singleton finished). */
  | 'released'
  /** The elector was closed. */
  | 'closed';

/** The reason a term's signal carries when leadership ends. */
export class LeadershipLostError extends Error {
  readonly code = LeaderErrorCode.leadershipLost;
  override readonly name = 'LeadershipLostError';

  constructor(
    readonly key: string,
    readonly epoch: number,
    readonly reason: LossReason,
    options?: { cause?: unknown },
  ) {
    super(`leadership of ${key} (epoch ${epoch}) ended: ${reason}`, options);
  }
}

export function isLeadershipLostError(err: unknown): err is LeadershipLostError {
  return hasCode(err, LeaderErrorCode.leadershipLost);
}

/** A campaign failed for a reason other than its abort (connection refused, lost race). */
export class ElectionError extends Error {
  readonly code = LeaderErrorCode.election;
  override readonly name = 'ElectionError';

  constructor(
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`campaign for ${key}: ${message}`, options);
  }
}

export function isElectionError(err: unknown): err is ElectionError {
  return hasCode(err, LeaderErrorCode.election);
}

export { coerceError } from '../errors.js';
