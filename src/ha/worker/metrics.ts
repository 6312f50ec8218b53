import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueAdmin } from '../queue/port.js';

export interface WorkerMetrics {
  started: Counter<'kind'>;
  succeeded: Counter<'kind'>;
  failed: Counter<'kind'>;
  retried: Counter<'kind'>;
  deferred: Counter<'kind'>;
  deadLettered: Counter<'kind'>;
  duration: Histogram<'kind' | 'outcome'>;
  dispatchLatency: Histogram<'kind'>;
  inFlight: Gauge;
}

/** The metrics of one job kind, with their label children resolved once (hot path: every job). */
export interface KindMetrics {
  started: Counter.Internal;
  succeeded: Counter.Internal;
  failed: Counter.Internal;
  retried: Counter.Internal;
  deferred: Counter.Internal;
  deadLettered: Counter.Internal;
  dispatchLatency: Histogram.Internal<'kind'>;
  duration: (outcome: string) => Histogram.Internal<'kind' | 'outcome'>;
}

/** Caches `KindMetrics` per kind. */
export function kindMetrics(metrics: WorkerMetrics): (kind: string) => KindMetrics {
  const cache = new Map<string, KindMetrics>();
  return (kind) => {
    let m = cache.get(kind);
    if (!m) {
      const durations = new Map<string, Histogram.Internal<'kind' | 'outcome'>>();
      m = {
        started: metrics.started.labels(kind),
        succeeded: metrics.succeeded.labels(kind),
        failed: metrics.failed.labels(kind),
        retried: metrics.retried.labels(kind),
        deferred: metrics.deferred.labels(kind),
        deadLettered: metrics.deadLettered.labels(kind),
        dispatchLatency: metrics.dispatchLatency.labels(kind),
        duration: (outcome) => {
          let h = durations.get(outcome);
          if (!h) {
            h = metrics.duration.labels(kind, outcome);
            durations.set(outcome, h);
          }
          return h;
        },
      };
      cache.set(kind, m);
    }
    return m;
  };
}

/** Returns the metric already registered under `name` (several workers may share a registry). */
function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The worker's metrics, registered on `registry` (never the global one). */
export function workerMetrics(registry: Registry): WorkerMetrics {
  const counter = (name: string, help: string) =>
    once(
      registry,
      name,
      () => new Counter({ name, help, labelNames: ['kind'] as const, registers: [registry] }),
    );
  return {
    started: counter('stratus_jobs_started_total', 'Job attempts started (a lease was taken).'),
    succeeded: counter('stratus_jobs_succeeded_total', 'Jobs completed in the ledger and acknowledged.'),
    failed: counter('stratus_jobs_failed_total', 'Job attempts that failed (thrown, timed out).'),
    retried: counter('stratus_jobs_retried_total', 'Failed attempts scheduled for a delayed retry.'),
    deferred: counter(
      'stratus_jobs_deferred_total',
      'Runs the handler deferred (a dependency not ready): released without counting an attempt.',
    ),
    deadLettered: counter(
      'stratus_jobs_dead_lettered_total',
      'Messages moved to the dead-letter store (last attempt, terminal error, unparseable, unknown kind).',
    ),
    duration: once(
      registry,
      'stratus_job_duration_seconds',
      () =>
        new Histogram({
          name: 'stratus_job_duration_seconds',
          help: 'Handler run time by outcome.',
          labelNames: ['kind', 'outcome'] as const,
          buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120],
          registers: [registry],
        }),
    ),
    dispatchLatency: once(
      registry,
      'stratus_job_dispatch_latency_seconds',
      () =>
        new Histogram({
          name: 'stratus_job_dispatch_latency_seconds',
          help: 'From the enqueue (producer clock) to the handler start.',
          labelNames: ['kind'] as const,
          buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
          registers: [registry],
        }),
    ),
    inFlight: once(
      registry,
      'stratus_worker_jobs_in_flight',
      () =>
        new Gauge({
          name: 'stratus_worker_jobs_in_flight',
          help: 'Messages this worker holds.',
          registers: [registry],
        }),
    ),
  };
}

/**
 * Queue gauges read at scrape time from `queue.stats()`, so no timer polls Redis for a
 * dashboard nobody looks at.
 */
export function registerQueueGauges(registry: Registry, queue: Pick<QueueAdmin, 'stats'>): void {
  if (registry.getSingleMetric('stratus_queue_depth')) return;
  let last: Promise<Awaited<ReturnType<QueueAdmin['stats']>> | undefined> | undefined;
  // One stats() call per scrape serves every gauge of the scrape.
  const stats = () => {
    last ??= queue
      .stats()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (last = undefined), 100).unref());
    return last;
  };
  const gauge = (name: string, help: string, pick: (s: Awaited<ReturnType<QueueAdmin['stats']>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await stats();
        if (s) this.set(pick(s));
      },
    });
  gauge('stratus_queue_depth', 'Messages in the queue, pending or not.', (s) => s.length);
  gauge('stratus_queue_pending', 'Messages handed out and not acknowledged.', (s) => s.pending);
  gauge(
    'stratus_queue_undelivered_messages',
    'Messages not yet handed out to any consumer (a count, not a time).',
    (s) => s.lag,
  );
  gauge(
    'stratus_queue_oldest_pending_seconds',
    'Age of the oldest pending message.',
    (s) => s.oldestPendingMs / 1000,
  );
  gauge('stratus_queue_delayed', 'Messages waiting for a delayed retry.', (s) => s.delayed);
  gauge('stratus_queue_dead_letters', 'Size of the dead-letter store.', (s) => s.deadLetters);
}
