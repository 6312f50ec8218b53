// Typed errors a backend port may raise. Like the resilience errors, each has a stable
// code and a brand, and the guards check those, so they survive two copies of the code
// (an HTTP client decoding a simulator's answer builds the same codes).

const BRAND: unique symbol = Symbol.for('stratus.backend.error');

/** Stable codes of the backend errors. */
export const BackendErrorCode = {
  NotFound: 'BACKEND_NOT_FOUND',
  InvalidInput: 'BACKEND_INVALID_INPUT',
  Conflict: 'BACKEND_CONFLICT',
  Unavailable: 'BACKEND_UNAVAILABLE',
  StaleFencingToken: 'BACKEND_STALE_FENCING_TOKEN',
} as const;

/** One of {@link BackendErrorCode}. */
export type BackendErrorCode = (typeof BackendErrorCode)[keyof typeof BackendErrorCode];

/** Base of the backend errors. */
export abstract class BackendError extends Error {
  /** Stable machine-readable code. */
  abstract readonly code: BackendErrorCode;
  /** Brand checked by the guards. */
  readonly [BRAND] = true;
}

/** The resource does not exist (any more). Says nothing about the backend's health. */
export class NotFoundError extends BackendError {
  readonly code = BackendErrorCode.NotFound;
  override readonly name = 'NotFoundError';
  /** @param resource the missing resource, e.g. `instance/i-1` */
  constructor(readonly resource: string) {
    super(`${resource} not found`);
  }
}

/** The request is malformed or asks for something impossible; repeating it cannot help. */
export class InvalidInputError extends BackendError {
  readonly code = BackendErrorCode.InvalidInput;
  override readonly name = 'InvalidInputError';
}

/**
 * The request clashes with the resource's state (attached volume deleted, a client token
 * reused with different parameters…).
 */
export class ConflictError extends BackendError {
  readonly code = BackendErrorCode.Conflict;
  override readonly name: string = 'ConflictError';
}

/** Why a {@link CapacityError} refused a create. */
export type CapacityReason = 'quota-exceeded' | 'no-capacity';

/**
 * A create was refused for lack of room: the tenant's quota is used up (`quota-exceeded`,
 * only an operator can raise it) or the zone has no free capacity (`no-capacity`, another
 * zone or a later attempt may succeed). A conflict with the backend's state, so it never
 * counts against the backend's health.
 */
export class CapacityError extends ConflictError {
  override readonly name = 'CapacityError';
  /**
   * @param reason which limit refused the create
   * @param message what was asked and what is left
   */
  constructor(
    readonly reason: CapacityReason,
    message: string,
  ) {
    super(message);
  }
}

/** The backend cannot serve the request now; a later attempt may succeed. */
export class UnavailableError extends BackendError {
  readonly code = BackendErrorCode.Unavailable;
  override readonly name = 'UnavailableError';
}

/** A newer fencing token was already seen for this resource: the caller was deposed. */
export class StaleFencingTokenError extends BackendError {
  readonly code = BackendErrorCode.StaleFencingToken;
  override readonly name = 'StaleFencingTokenError';
  /**
   * @param resource the resource key the tokens are scoped to
   * @param presented the caller's token
   * @param newest the newest token seen for the resource
   */
  constructor(
    readonly resource: string,
    readonly presented: number,
    readonly newest: number,
  ) {
    super(`fencing token ${presented} for ${resource} is older than ${newest}`);
  }
}

function hasCode(error: unknown, code: BackendErrorCode): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === code &&
    (error as { [BRAND]?: unknown })[BRAND] === true
  );
}

/** True for any backend error. */
export function isBackendError(error: unknown): error is BackendError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}

/** True for a {@link NotFoundError} from any copy. */
export function isNotFoundError(error: unknown): error is NotFoundError {
  return hasCode(error, BackendErrorCode.NotFound);
}

/** True for an {@link InvalidInputError} from any copy. */
export function isInvalidInputError(error: unknown): error is InvalidInputError {
  return hasCode(error, BackendErrorCode.InvalidInput);
}

/** True for a {@link ConflictError} from any copy. */
export function isConflictError(error: unknown): error is ConflictError {
  return hasCode(error, BackendErrorCode.Conflict);
}

/** True for an {@link UnavailableError} from any copy. */
export function isUnavailableError(error: unknown): error is UnavailableError {
  return hasCode(error, BackendErrorCode.Unavailable);
}

/** True for a {@link StaleFencingTokenError} from any copy. */
export function isStaleFencingTokenError(error: unknown): error is StaleFencingTokenError {
  return hasCode(error, BackendErrorCode.StaleFencingToken);
}

/** True for a {@link CapacityError} (of either reason) from any copy. */
export function isCapacityError(error: unknown): error is CapacityError {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return isConflictError(error) && (reason === 'quota-exceeded' || reason === 'no-capacity');
}
