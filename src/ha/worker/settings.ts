import type { WorkerOptions } from './types.js';

/** Every timing and size of a worker, resolved from its options. */
export interface WorkerSettings {
  readonly concurrency: number;
  readonly batchSize: number;
  readonly heartbeatMs: number;
  readonly reclaimMs: number;
  readonly promoteMs: number;
  readonly receiveBlockMs: number;
  readonly drainMs: number;
  readonly abortGraceMs: number;
  readonly maxDeliveries: number;
}

/**
 * Defaults: heartbeats, reclaim scans and receive blocks every 0.5 s, against 4 s leases and
 * visibility. The three bound how soon a dead worker's job runs again: see DEFAULT_LEASE_MS.
 *
 * Concurrency 30: no more handlers than the default backend bulkheads take in (network: 15
 * slots + 15 queued, compute 20 + 20), a call beyond which is rejected and costs its job a
 * failed attempt and a retry. Measured with `bench:api` (3,000 instances, 2 workers on a loaded
 * two-core machine): at 50, 370-410 of the 3,000 jobs failed an attempt that way; at 30, none,
 * and 1-1.5 fewer rows written per resource.
 */
export const WORKER_DEFAULTS = {
  concurrency: 30,
  heartbeatMs: 500,
  reclaimMs: 500,
  promoteMs: 250,
  receiveBlockMs: 500,
  drainMs: 10_000,
  abortGraceMs: 1_000,
  maxDeliveries: 10,
} as const;

export function resolveSettings(options: WorkerOptions): WorkerSettings {
  const concurrency = options.concurrency ?? WORKER_DEFAULTS.concurrency;
  return {
    concurrency,
    batchSize: options.batchSize ?? 2 * concurrency,
    heartbeatMs: options.heartbeatMs ?? WORKER_DEFAULTS.heartbeatMs,
    reclaimMs: options.reclaimMs ?? WORKER_DEFAULTS.reclaimMs,
    promoteMs: options.promoteMs ?? WORKER_DEFAULTS.promoteMs,
    receiveBlockMs: options.receiveBlockMs ?? WORKER_DEFAULTS.receiveBlockMs,
    drainMs: options.drainMs ?? WORKER_DEFAULTS.drainMs,
    abortGraceMs: options.abortGraceMs ?? WORKER_DEFAULTS.abortGraceMs,
    maxDeliveries: Math.max(1, options.maxDeliveries ?? WORKER_DEFAULTS.maxDeliveries),
  };
}
