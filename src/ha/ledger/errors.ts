const STALE_LEASE = 'STRATUS_STALE_LEASE';

/**
 * A transition named a lease that is no longer live: it expired, or the job was leased
 * again with a larger token. The holder must stop and must not acknowledge the message.
 */
export class StaleLeaseError extends Error {
  /** Stable across copies of this package; test it with `isStaleLeaseError`. */
  readonly code = STALE_LEASE;

  constructor(
    readonly jobKey: string,
    readonly token: number,
    readonly transition: 'complete' | 'fail',
  ) {
    super(`lease ${token} of job ${jobKey} is no longer live: ${transition} refused`);
    this.name = 'StaleLeaseError';
  }
}

/** True for a `StaleLeaseError`, from any copy of this package. */
export function isStaleLeaseError(err: unknown): err is StaleLeaseError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === STALE_LEASE;
}
