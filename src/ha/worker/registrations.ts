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

/**
 * The job timing defaults, chosen together (the queue's visibility timeout, the worker's
 * heartbeat, reclaim and receive periods must follow this one). A SIGKILLed worker's job runs
 * again after: its lease expires (last renewal 0-1 heartbeat before the kill, so lease - heartbeat
 * to lease after it), its message goes idle past the visibility timeout (touched right after the
 * renewal, so never before the lease), and a live worker's next reclaim scan finds it (up to one
 * reclaim period, or one receive block when the loop is waiting on an empty queue). With
 * lease = visibility = 4 s and heartbeat = reclaim = receive block = 0.5 s that is 3.5-4.5 s; it
 * was 4-6 s with 5 s and 1 s. Measured (`npm run bench:queue -- --resume`, 24 kills under
 * load, ~90 jobs running at the kills): p50 4,035 ms, p99 4,563 ms, max 4,563 ms, against
 * 5,062 / 5,874 / 5,874 ms with the old values; the goal is p99 < 6 s. A live worker loses a
 * lease only when no renewal lands for lease - heartbeat = 3.5 s (7 missed beats): about the
 * 4 s it tolerated before, 15 times the longest event-loop stall seen in those runs (239 ms),
 * and none of their jobs longer than the lease was taken from a live worker.
 */
export const DEFAULT_LEASE_MS = 4_000;
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Resolves each kind's registration against the worker's defaults. A lease shorter than two
 * heartbeats is refused: a job starts only with a heartbeat of lease left, so such a kind
 * would never start, or lose its lease to a single late beat.
 */
export function resolveHandlers(
  handlers: Readonly<Record<string, JobHandler | HandlerRegistration>>,
  workerConcurrency: number,
  heartbeatMs: number,
): Map<string, ResolvedHandler> {
  const resolved = new Map<string, ResolvedHandler>();
  for (const [kind, value] of Object.entries(handlers)) {
    const reg: HandlerRegistration = typeof value === 'function' ? { handler: value } : value;
    const leaseMs = reg.leaseMs ?? DEFAULT_LEASE_MS;
    if (leaseMs < 100) throw new RangeError(`handler ${kind}: leaseMs must be at least 100`);
    if (leaseMs < 2 * heartbeatMs) {
      throw new RangeError(
        `handler ${kind}: leaseMs ${leaseMs} must be at least two heartbeats (${2 * heartbeatMs} ms)`,
      );
    }
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
