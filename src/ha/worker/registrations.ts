import type { BackoffOptions } from './backoff.js';
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
