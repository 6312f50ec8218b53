// Turns what a reconcile pass threw into the words its resource shows:
// `Ready=False, reason=<reason>, message=<message>`, and whether retrying can help.

import { BackendErrorCode, isBackendError, isInvalidInputError } from '../core/errors/backend-errors.js';
import { isReconcileError } from '../core/resources/reconcile-error.js';
import { findCause, isResilienceError } from '../ha/resilience/errors.js';
import { isJobTimeoutError } from '../ha/worker/errors.js';

/** Why a pass failed. */
export interface Failure {
  /** One CamelCase word. */
  readonly reason: string;
  /** For the resource's owner: the backend's own words, never a stack or a query. */
  readonly message: string;
  /** Retrying cannot help; the next change of spec may. */
  readonly terminal: boolean;
}

const BACKEND_REASONS: Readonly<Record<string, string>> = {
  [BackendErrorCode.NotFound]: 'BackendNotFound',
  [BackendErrorCode.InvalidInput]: 'InvalidInput',
  [BackendErrorCode.Conflict]: 'BackendConflict',
  [BackendErrorCode.Unavailable]: 'BackendUnavailable',
  [BackendErrorCode.StaleFencingToken]: 'Fenced',
};

/** Classifies an error thrown by a driver (possibly through the resilience wrapper). */
export function describeFailure(err: unknown): Failure {
  const reconcile = findCause(err, isReconcileError);
  if (reconcile)
    return { reason: reconcile.reason, message: reconcile.message, terminal: reconcile.terminal };
  const backend = findCause(err, isBackendError);
  if (backend) {
    return {
      reason: BACKEND_REASONS[backend.code] ?? 'BackendError',
      message: backend.message,
      terminal: isInvalidInputError(backend),
    };
  }
  if (isJobTimeoutError(err)) return { reason: 'Timeout', message: err.message, terminal: false };
  if (isResilienceError(err)) return { reason: 'BackendUnavailable', message: err.message, terminal: false };
  return {
    reason: 'ReconcileFailed',
    message: 'unexpected error while reconciling (see the worker log)',
    terminal: false,
  };
}
