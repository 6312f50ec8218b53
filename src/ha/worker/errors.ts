/**
 * Errors that steer the worker. Each has a stable `code` and a guard that tests the code, so
 * they are recognised across two copies of this package.
 */

import { hasCode } from '../errors.js';

const TERMINAL = 'STRATUS_TERMINAL_JOB';
const TIMEOUT = 'STRATUS_JOB_TIMEOUT';
const LEASE_LOST = 'STRATUS_LEASE_LOST';
const SHUTDOWN = 'STRATUS_WORKER_SHUTDOWN';
const DEFER = 'STRATUS_DEFER_JOB';

/** Thrown by a handler when retrying cannot help (invalid input, resource gone): no retries. */
export class TerminalJobError extends Error {
  readonly code = TERMINAL;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalJobError';
  }
}

export function isTerminalJobError(err: unknown): err is TerminalJobError {
  return hasCode(err, TERMINAL);
}

/** The abort reason when a handler runs past its timeout. */
export class JobTimeoutError extends Error {
  readonly code = TIMEOUT;
  constructor(readonly timeoutMs: number) {
    super(`job ran past its timeout of ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

export function isJobTimeoutError(err: unknown): err is JobTimeoutError {
  return hasCode(err, TIMEOUT);
}

/** The abort reason when the worker lost the job's lease: another worker may run it now. */
export class LeaseLostError extends Error {
  readonly code = LEASE_LOST;
  constructor(readonly jobKey: string) {
    super(`lease of job ${jobKey} was lost`);
    this.name = 'LeaseLostError';
  }
}

export function isLeaseLostError(err: unknown): err is LeaseLostError {
  return hasCode(err, LEASE_LOST);
}

/** The abort reason when the worker shuts down before the handler finished. */
export class WorkerShutdownError extends Error {
  readonly code = SHUTDOWN;
  constructor() {
    super('worker shut down before the job finished');
    this.name = 'WorkerShutdownError';
  }
}

export function isWorkerShutdownError(err: unknown): err is WorkerShutdownError {
  return hasCode(err, SHUTDOWN);
}

const ILLEGAL_TRANSITION = 'STRATUS_ILLEGAL_JOB_TRANSITION';

/** A held job was asked to move along an edge its state machine does not have: a worker bug. */
export class IllegalTransitionError extends Error {
  readonly code = ILLEGAL_TRANSITION;
  constructor(
    readonly jobKey: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`job ${jobKey}: illegal transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function isIllegalTransitionError(err: unknown): err is IllegalTransitionError {
  return hasCode(err, ILLEGAL_TRANSITION);
}

/**
 * Thrown by a handler that cannot run yet for a reason outside the job (a resource it needs is
 * still being provisioned): the lease is released without counting an attempt, and the job
 * comes back after `delayMs`. The handler bounds how long it defers; the worker does not.
 */
export class DeferJobError extends Error {
  readonly code = DEFER;
  constructor(
    readonly delayMs: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DeferJobError';
  }
}

export function isDeferJobError(err: unknown): err is DeferJobError {
  return hasCode(err, DEFER);
}
