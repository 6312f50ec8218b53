// Rebuilds a backend error from its stable code and details, as a client decoding a
// simulator's answer (or a fault rule naming a code) needs to: the result passes the same
// guards as the error the backend raised.

import {
  type BackendError,
  BackendErrorCode,
  CapacityError,
  type CapacityReason,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  StaleFencingTokenError,
  UnavailableError,
} from './backend-errors.js';

/** What travels with a backend error's code. */
export interface BackendErrorDetails {
  /** Human message. */
  readonly message: string;
  /** The resource concerned, for not-found and stale-token errors. */
  readonly resource?: string;
  /** The caller's fencing token, for stale-token errors. */
  readonly presented?: number;
  /** The newest fencing token seen, for stale-token errors. */
  readonly newest?: number;
  /** The limit that refused a create, for capacity errors. */
  readonly reason?: string;
}

/** True when `code` is one of {@link BackendErrorCode}. */
export function isBackendErrorCode(code: unknown): code is BackendErrorCode {
  return Object.values(BackendErrorCode).includes(code as BackendErrorCode);
}

/** The backend error of `code` with `details`. */
export function backendErrorOf(code: BackendErrorCode, details: BackendErrorDetails): BackendError {
  switch (code) {
    case BackendErrorCode.NotFound:
      return new NotFoundError(details.resource ?? details.message);
    case BackendErrorCode.InvalidInput:
      return new InvalidInputError(details.message);
    case BackendErrorCode.Conflict:
      return details.reason === 'quota-exceeded' || details.reason === 'no-capacity'
        ? new CapacityError(details.reason as CapacityReason, details.message)
        : new ConflictError(details.message);
    case BackendErrorCode.StaleFencingToken:
      return new StaleFencingTokenError(details.resource ?? '', details.presented ?? 0, details.newest ?? 0);
    case BackendErrorCode.Unavailable:
      return new UnavailableError(details.message);
  }
}
