import type { BackoffOptions } from './backoff.js';
import { TerminalJobError } from './errors.js';
import type { HandlerRegistration, JobHandler } from './types.js';

/** A handler with every option resolved. */
export interface ResolvedHandler {
  readonly kind: string;
  readonly handler: JobHandler;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions;
}

/** Defaults of the issue: lease and visibility 5 s; heartbeats every second renew them. */
export const DEFAULT_LEASE_MS = 5_000;
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_ATTEMPTS = 5;

export function resolveHandlers(
  handlers: Readonly<Record<string, JobHandler | HandlerRegistration>>,
  workerConcurrency: number,
): Map<string, ResolvedHandler> {
  const resolved = new Map<string, ResolvedHandler>();
  for (const [kind, value] of Object.entries(handlers)) {
    const reg: HandlerRegistration = typeof value === 'function' ? { handler: value } : value;
    const leaseMs = reg.leaseMs ?? DEFAULT_LEASE_MS;
    if (leaseMs < 100) throw new RangeError(`handler ${kind}: leaseMs must be at least 100`);
    resolved.set(kind, {
      kind,
      handler: reg.handler,
      concurrency: Math.max(1, Math.min(reg.concurrency ?? workerConcurrency, workerConcurrency)),
      leaseMs,
      timeoutMs: reg.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxAttempts: Math.max(1, reg.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
      backoff: reg.backoff ?? {},
    });
  }
  return resolved;
}

/**
 * The stand-in for a kind this worker has no handler for. Its job takes a lease like any other,
 * so the refusals apply (a copy of a job another replica completed is acked, one running
 * elsewhere is handed back), and a granted lease fails the job for good with the reason: the
 * ledger records it, the message goes to the dead-letter store, `onDeadLetter` is told, and the
 * outbox sweeper does not send the job again and again. Hence, in a rolling upgrade, replicas
 * learn a new kind before producers start writing it.
 */
export function unknownKindHandler(kind: string, workerConcurrency: number): ResolvedHandler {
  return {
    kind,
    handler: async () => {
      throw new TerminalJobError(`unknown job kind "${kind}"`);
    },
    concurrency: workerConcurrency,
    leaseMs: DEFAULT_LEASE_MS,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    maxAttempts: 1,
    backoff: {},
  };
}
