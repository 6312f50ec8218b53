import { hasCode } from '../errors.js';

const INVALID_JOB = 'STRATUS_INVALID_JOB';

/** A job that cannot be stored or sent: its key, kind or body breaks a limit of `limits.ts`. */
export class InvalidJobError extends Error {
  /** Stable across copies of this package; test it with `isInvalidJobError`. */
  readonly code = INVALID_JOB;
  constructor(
    readonly jobKey: unknown,
    readonly reason: string,
  ) {
    super(`invalid job: ${reason}`);
    this.name = 'InvalidJobError';
  }
}

/** True for an `InvalidJobError`, from any copy of this package. */
export function isInvalidJobError(err: unknown): err is InvalidJobError {
  return hasCode(err, INVALID_JOB);
}
