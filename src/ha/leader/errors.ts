import { hasCode } from '../errors.js';
/**
 * The errors of leader election. Each has a stable `code` and a type guard that checks the
 * code, not the prototype, so two copies of this module still recognise each other's errors.
 */

/** Codes of the errors below. */
export const LeaderErrorCode = {
  staleEpoch: 'STALE_EPOCH',
  leadershipLost: 'LEADERSHIP_LOST',
  election: 'ELECTION_FAILED',
} as const;

/**
 * A write carried an epoch that is no longer the key's current one: a newer leader has been
 * elected since. The write was not performed. Never retry it with the same epoch.
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
  ) {
    super(`stale epoch ${epoch} for leadership key ${key} (current: ${currentEpoch ?? 'none'})`);
  }
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
