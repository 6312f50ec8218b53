// ONE generic resilient wrapper for every backend port: a breaker and a bulkhead per
// backend, a timeout per operation, and retries only for operations declared idempotent.
// Health pings go through the same breaker and bulkhead as everything else, so a ping
// reports what a real call would meet.

import { SpanKind, type SpanOptions } from '@opentelemetry/api';
import {
  isConflictError,
  isInvalidInputError,
  isNotFoundError,
  isStaleFencingTokenError,
  isUnavailableError,
} from '../core/errors/backend-errors.js';
import type { CallOptions } from '../core/ports/common.js';
import { failedSpan, inSpan } from '../core/tracing.js';
import { fullJitter } from '../ha/resilience/backoff.js';
import { CircuitBreaker } from '../ha/resilience/breaker/circuit-breaker.js';
import type { CircuitBreakerOptions } from '../ha/resilience/breaker/options.js';
import { Bulkhead } from '../ha/resilience/bulkhead.js';
import type { Scheduler } from '../ha/resilience/clock.js';
import type { CallScope } from '../ha/resilience/context.js';
import { isBulkheadRejectedError, isCircuitOpenError, isTimeoutError } from '../ha/resilience/errors.js';
import { Executor, type Policy } from '../ha/resilience/policy.js';
import { Retry } from '../ha/resilience/retry.js';
import { Timeout } from '../ha/resilience/timeout.js';
import type { ContainmentSampler } from './containment.js';

/** A method of a port: every one returns a promise. */
type PortMethod = (...args: never[]) => Promise<unknown>;

/** Names of the methods of a port. */
export type OperationName<P> = {
  [K in keyof P]: P[K] extends PortMethod ? K : never;
}[keyof P] &
  string;

/** Position of the options parameter: always the method's last declared parameter. */
export type OptionsIndex<F> = F extends (...args: infer A) => unknown
  ? Required<A> extends [...infer Init, unknown]
    ? Init['length']
    : never
  : never;

/** How the wrapper treats one operation. */
export interface OperationPolicy<I extends number = number> {
  /**
   * Deadline of the whole call, from the moment it is made: time queued in the bulkhead,
   * every attempt and the backoff sleeps between them all count (for a stream, the deadline
   * of opening it). The caller never waits longer than this.
   */
  readonly timeoutMs: number;
  /**
   * Timeout of one attempt, once it holds a bulkhead slot; default `timeoutMs`. Below the
   * deadline it lets an idempotent operation abandon a hung attempt and retry while the
   * deadline still allows.
   */
  readonly attemptTimeoutMs?: number;
  /** Safe to repeat: the wrapper retries it on transient failures. */
  readonly idempotent: boolean;
  /** The operation opens a stream that outlives the call. */
  readonly stream?: boolean;
  /**
   * For a stream: released (its signal aborted with a `StreamIdleError`) when its reader has
   * asked for nothing this long; default 60 000.
   */
  readonly streamIdleMs?: number;
  /** Index of the options parameter; the type checks it against the method. */
  readonly optionsAt: I;
}

/** The policy of every operation of port `P`. */
export type OperationTable<P> = {
  readonly [K in OperationName<P>]: OperationPolicy<OptionsIndex<P[K]>>;
};

/** Per-operation overrides; `optionsAt` is fixed by the port and cannot be overridden. */
export type OperationOverrides<P> = {
  readonly [K in OperationName<P>]?: Partial<Omit<OperationPolicy, 'optionsAt'>>;
};

/** Resilience settings of one backend. */
export interface BackendResilienceOptions {
  /** Breaker settings; defaults: 5 consecutive failures, 30 s open, 2 successes to close. */
  readonly breaker?: Omit<CircuitBreakerOptions, 'name' | 'clock' | 'classify'>;
  /** Bulkhead settings; the queue defaults to as many waiters as slots, waiting up to 5 s. */
  readonly bulkhead?: {
    readonly maxConcurrent?: number;
    readonly maxQueued?: number;
    readonly queueTimeoutMs?: number;
  };
  /** Retry settings for idempotent operations; defaults: 3 attempts, full jitter 100 ms–2 s. */
  readonly retry?: { readonly maxAttempts?: number; readonly baseMs?: number; readonly capMs?: number };
}

/** A port wrapped in its policies, with the policies exposed for health and metrics. */
export interface ResilientBackend<P> {
  /** The wrapped port: the only way to reach the raw one. */
  readonly port: P;
  /** The backend's breaker. */
  readonly breaker: CircuitBreaker;
  /** The backend's bulkhead. */
  readonly bulkhead: Bulkhead;
  /** The retry policy of idempotent operations. */
  readonly retry: Retry;
  /**
   * Timeout policies: the deadline of each operation under its name (`getInstance`), the
   * timeout of one attempt under the name with `.attempt` (`getInstance.attempt`).
   */
  readonly timeouts: ReadonlyMap<string, Timeout>;
}

/**
 * Classifies backend errors for the breaker: the caller's mistakes and the state of one
 * resource (not found, invalid, conflict, a stale fencing token) say nothing about the
 * backend's health, and neither do the refusals of our own policies.
 */
export function classifyBackendError(error: unknown): 'failure' | 'ignored' {
  return isNotFoundError(error) ||
    isInvalidInputError(error) ||
    isConflictError(error) ||
    isStaleFencingTokenError(error) ||
    isCircuitOpenError(error) ||
    isBulkheadRejectedError(error)
    ? 'ignored'
    : 'failure';
}

/** Retry only what may pass on its own: an unavailable backend or a timed-out attempt. */
export function isTransientBackendError(error: unknown): boolean {
  return isUnavailableError(error) || isTimeoutError(error);
}

/**
 * Wraps `port` so that every operation in `operations` runs under, outermost first:
 * deadline → retry (idempotent operations only) → breaker → bulkhead → attempt timeout;
 * a call its open breaker would refuse is refused before the layers are entered.
 * The deadline bounds the whole call; the attempt timeout, inside the bulkhead, bounds one
 * attempt and tells the breaker of a hung backend at once, even one that ignores its abort.
 * Each call gets one AbortSignal that combines the caller's signal (from the options
 * argument) with both; the raw port receives it in place of the caller's.
 *
 * @param name backend name, used for the policies' names and metrics
 * @param port the raw port
 * @param operations the policy of every operation
 * @param bulkheadSize default concurrency of the backend
 * @param options overrides of the defaults
 * @param scheduler clock and timers; default the process's
 * @param containment told of every call's start and end (G6's figures); none by default
 */
export function resilient<P extends object>(
  name: string,
  port: P,
  operations: OperationTable<P>,
  bulkheadSize: number,
  options: BackendResilienceOptions = {},
  scheduler?: Scheduler,
  containment?: ContainmentSampler,
): ResilientBackend<P> {
  const clock = scheduler === undefined ? {} : { clock: scheduler };
  const timers = scheduler === undefined ? {} : { scheduler };
  const breaker = new CircuitBreaker({
    consecutiveFailures: 5,
    openMs: 30_000,
    ...options.breaker,
    halfOpen: { successesToClose: 2, ...options.breaker?.halfOpen },
    name,
    classify: classifyBackendError,
    ...clock,
  });
  const maxConcurrent = options.bulkhead?.maxConcurrent ?? bulkheadSize;
  const bulkhead = new Bulkhead({
    name,
    maxConcurrent,
    maxQueued: options.bulkhead?.maxQueued ?? maxConcurrent,
    queueTimeoutMs: options.bulkhead?.queueTimeoutMs ?? 5_000,
    ...timers,
  });
  const retry = new Retry({
    name,
    maxAttempts: options.retry?.maxAttempts ?? 3,
    backoff: fullJitter({ baseMs: options.retry?.baseMs ?? 100, capMs: options.retry?.capMs ?? 2_000 }),
    shouldRetry: isTransientBackendError,
    ...timers,
  });
  const timeouts = new Map<string, Timeout>();
  const wrapped: Record<string, unknown> = {};
  const methods = port as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [op, policy] of Object.entries(operations) as [string, OperationPolicy][]) {
    const method = methods[op];
    if (typeof method !== 'function') throw new TypeError(`${name} has no operation ${op}`);
    const deadline = new Timeout({ name: `${name}.${op}`, timeoutMs: policy.timeoutMs, ...timers });
    const attemptMs = Math.min(policy.attemptTimeoutMs ?? policy.timeoutMs, policy.timeoutMs);
    const attempt = new Timeout({ name: `${name}.${op}.attempt`, timeoutMs: attemptMs, ...timers });
    timeouts.set(op, deadline);
    timeouts.set(`${op}.attempt`, attempt);
    const stack: Policy[] = policy.idempotent
      ? [deadline, retry, breaker, bulkhead, attempt]
      : [deadline, breaker, bulkhead, attempt];
    const executor = new Executor(stack, {
      ...(policy.streamIdleMs === undefined ? {} : { streamIdleMs: policy.streamIdleMs }),
      ...timers,
    });
    const at = policy.optionsAt;
    const spanName = `${name}.${op}`;
    wrapped[op] = (...args: unknown[]) => {
      const callerOptions = args[at] as CallOptions | undefined;
      // A call its open breaker would refuse is refused here, already settled: no layer, no
      // timer and no await stands between the caller and the refusal (G6's fail-fast).
      const refused = policy.stream || callerOptions?.signal?.aborted ? undefined : breaker.refusal();
      if (refused) {
        containment?.end(name, containment.start(name), 'refused');
        failedSpan(spanName, callSpanOptions(name, op, callerOptions), refused);
        return Promise.reject(refused);
      }
      const run = (scope: CallScope) => {
        // The raw port sees the call's combined signal instead of the caller's.
        const callArgs = args.slice(0, at);
        callArgs.length = at;
        callArgs.push({ ...callerOptions, signal: scope.signal });
        return method.apply(port, callArgs);
      };
      if (policy.stream)
        return executor.stream(
          run as (scope: CallScope) => Promise<AsyncIterable<unknown>>,
          callerOptions?.signal,
        );
      const call = () => executor.execute(run, callerOptions?.signal);
      return inCallSpan(
        spanName,
        name,
        op,
        callerOptions,
        containment ? sampled(containment, name, call) : call,
      );
    };
  }
  return { port: wrapped as P, breaker, bulkhead, retry, timeouts };
}

/**
 * One client span per backend call, retries, queueing in the bulkhead and the breaker's
 * refusals included, as a child of the active span (the job's), with the client and fencing
 * tokens the backend saw. A no-op without tracing.
 */
function inCallSpan<T>(
  spanName: string,
  backend: string,
  operation: string,
  options: CallOptions | undefined,
  run: () => Promise<T>,
): Promise<T> {
  return inSpan(spanName, callSpanOptions(backend, operation, options), run);
}

/** The kind and attributes of a backend call's span. */
function callSpanOptions(backend: string, operation: string, options: CallOptions | undefined): SpanOptions {
  const { clientToken, fencingToken } = (options ?? {}) as { clientToken?: string; fencingToken?: number };
  return {
    kind: SpanKind.CLIENT,
    attributes: {
      'stratus.backend': backend,
      'stratus.backend.operation': operation,
      ...(clientToken === undefined ? {} : { 'stratus.client_token': clientToken }),
      ...(fencingToken === undefined ? {} : { 'stratus.fencing_token': fencingToken }),
    },
  };
}

/** `call`, with its start and outcome told to `containment`. */
function sampled<T>(
  containment: ContainmentSampler,
  backend: string,
  call: () => Promise<T>,
): () => Promise<T> {
  return async () => {
    const t0 = containment.start(backend);
    try {
      const result = await call();
      containment.end(backend, t0, 'ok');
      return result;
    } catch (err) {
      containment.end(backend, t0, isCircuitOpenError(err) ? 'refused' : 'failed');
      throw err;
    }
  };
}

/** Applies per-operation overrides to a table. */
export function withOverrides<P>(
  table: OperationTable<P>,
  overrides: OperationOverrides<P> | undefined,
): OperationTable<P> {
  if (overrides === undefined) return table;
  const merged: Record<string, OperationPolicy> = { ...(table as Record<string, OperationPolicy>) };
  for (const [op, override] of Object.entries(overrides) as [
    string,
    Partial<OperationPolicy> | undefined,
  ][]) {
    const base = merged[op];
    if (base !== undefined && override !== undefined)
      merged[op] = { ...base, ...override, optionsAt: base.optionsAt };
  }
  return merged as OperationTable<P>;
}
