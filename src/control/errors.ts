// Errors of the resource machinery. Each has a stable code, an HTTP status the API maps it to,
// and a message safe to show a client (no internals).

import type { FieldError } from '../core/resources/field-error.js';

const BRAND: unique symbol = Symbol.for('stratus.control.error');

/** Stable codes of the control errors. */
export const ControlErrorCode = {
  Validation: 'VALIDATION_FAILED',
  BadRequest: 'INVALID_REQUEST',
  NotFound: 'NOT_FOUND',
  NameTaken: 'NAME_TAKEN',
  HasReferrers: 'HAS_REFERRERS',
  Conflict: 'CONFLICT',
  PreconditionFailed: 'PRECONDITION_FAILED',
  Deleting: 'RESOURCE_DELETING',
  ActionRefused: 'ACTION_REFUSED',
  IdempotencyKeyReused: 'IDEMPOTENCY_KEY_REUSED',
  IdempotencyInFlight: 'IDEMPOTENCY_IN_FLIGHT',
  EventsGone: 'EVENTS_GONE',
  NotDeadLettered: 'NOT_DEAD_LETTERED',
} as const;

/** One of {@link ControlErrorCode}. */
export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

/** Base of the control errors. */
export abstract class ControlError extends Error {
  /** Stable machine-readable code. */
  abstract readonly code: ControlErrorCode;
  /** The HTTP status this error answers with. */
  abstract readonly status: number;
  /** Field-level details (validation); empty otherwise. */
  readonly errors: readonly FieldError[] = [];
  /** Brand checked by {@link isControlError}. */
  readonly [BRAND] = true;
}

/** The request body is not a valid resource: one entry per failing field. */
export class ValidationError extends ControlError {
  readonly code = ControlErrorCode.Validation;
  readonly status = 422;
  override readonly name = 'ValidationError';
  override readonly errors: readonly FieldError[];
  /** @param errors at least one failing field */
  constructor(errors: readonly FieldError[]) {
    super(errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; '));
    this.errors = errors;
  }
}

/** A query parameter or header is malformed (the body is fine or absent). */
export class BadRequestError extends ControlError {
  readonly code = ControlErrorCode.BadRequest;
  readonly status = 400;
  override readonly name = 'BadRequestError';
  override readonly errors: readonly FieldError[];
  /** @param path where, e.g. `/querystring/cursor` @param message what is wrong */
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.errors = [{ path, message }];
  }
}

/** No such resource or operation in this tenant (another tenant's id answers the same). */
export class NotFoundError extends ControlError {
  readonly code = ControlErrorCode.NotFound;
  readonly status = 404;
  override readonly name = 'NotFoundError';
}

/** The name is taken in this tenant and kind. */
export class NameTakenError extends ControlError {
  readonly code = ControlErrorCode.NameTaken;
  readonly status = 409;
  override readonly name = 'NameTakenError';
  override readonly errors: readonly FieldError[];
  /** @param kind the kind @param resourceName the clashing name */
  constructor(kind: string, resourceName: string) {
    super(`${kind} named "${resourceName}" already exists`);
    this.errors = [{ path: '/name', message: `already used by another of your ${kind}` }];
  }
}

/** Other resources reference this one: they must go first. */
export class HasReferrersError extends ControlError {
  readonly code = ControlErrorCode.HasReferrers;
  readonly status = 409;
  override readonly name = 'HasReferrersError';
  /** @param id the resource @param referrers who references it (`instances/web-1 (inst_…)`) */
  constructor(
    id: string,
    readonly referrers: readonly string[],
  ) {
    super(`${id} is referenced by ${referrers.join(', ')}: delete them first`);
  }
}

/** The spec clashes with another resource of the tenant (two networks overlapping). */
export class ConflictError extends ControlError {
  readonly code = ControlErrorCode.Conflict;
  readonly status = 409;
  override readonly name = 'ConflictError';
  override readonly errors: readonly FieldError[];
  /** @param errors at least one clashing field, the message naming what it clashes with */
  constructor(errors: readonly FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    this.errors = errors;
  }
}

/** `If-Match` named another resource version than the current one. */
export class PreconditionFailedError extends ControlError {
  readonly code = ControlErrorCode.PreconditionFailed;
  readonly status = 412;
  override readonly name = 'PreconditionFailedError';
}

/** The resource is being deleted: it takes no more changes. */
export class DeletingError extends ControlError {
  readonly code = ControlErrorCode.Deleting;
  readonly status = 409;
  override readonly name = 'DeletingError';
}

/** An action's precondition does not hold (`already attached to inst_…`). */
export class ActionRefusedError extends ControlError {
  readonly code = ControlErrorCode.ActionRefused;
  readonly status = 409;
  override readonly name = 'ActionRefusedError';
}

/** The Idempotency-Key was used before for another request (method, route or body). */
export class IdempotencyKeyReusedError extends ControlError {
  readonly code = ControlErrorCode.IdempotencyKeyReused;
  readonly status = 422;
  override readonly name = 'IdempotencyKeyReusedError';
}

/** A request with the same Idempotency-Key is still being served. */
export class IdempotencyInFlightError extends ControlError {
  readonly code = ControlErrorCode.IdempotencyInFlight;
  readonly status = 409;
  override readonly name = 'IdempotencyInFlightError';
}

/** The cursor is older than the events retention kept: the client must list again. */
export class EventsGoneError extends ControlError {
  readonly code = ControlErrorCode.EventsGone;
  readonly status = 410;
  override readonly name = 'EventsGoneError';
  override readonly errors: readonly FieldError[];
  /** @param path the cursor's parameter @param since the cursor @param prunedUpTo the highest id removed */
  constructor(path: string, since: number, prunedUpTo: number) {
    super(
      `events up to ${prunedUpTo} are no longer kept (asked for those after ${since}): list the resources again and watch from the newest event`,
    );
    this.errors = [{ path, message: `must be at least ${prunedUpTo}` }];
  }
}

/**
 * A redrive of a job that is not dead-lettered: already redriven and not failed again (pending,
 * running), completed, or never enqueued through the outbox.
 */
export class NotDeadLetteredError extends ControlError {
  readonly code = ControlErrorCode.NotDeadLettered;
  readonly status = 409;
  override readonly name = 'NotDeadLetteredError';
}

/** True for any control error, from any copy of the code. */
export function isControlError(err: unknown): err is ControlError {
  return typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true;
}
