import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Config, optionsAt } from '../config/index.js';
import type { Elector } from '../ha/leader/port.js';
import { createPostgresLedger } from '../ha/ledger/postgres-ledger.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import { createOutboxRelay } from '../ha/outbox/relay.js';
import { createOutboxSweeper } from '../ha/outbox/sweeper.js';
import type { Queue } from '../ha/queue/port.js';
import { createPostgresQueue } from '../ha/queue/postgres/postgres-queue.js';
import { createRedisStreamsQueue } from '../ha/queue/redis-streams/redis-streams-queue.js';
import type { DeadLetterInfo, HandlerRegistration, JobHandler } from '../ha/worker/types.js';
import { createWorker } from '../ha/worker/worker.js';
import { controlPlaneKeys } from './leader-keys.js';
import { leaderGuarded } from './leadership.js';
import type { Stores } from './stores.js';

/** The job handlers of the control plane, by job kind. */
export type JobHandlers = Readonly<Record<string, JobHandler | HandlerRegistration>>;

/** Name of the one job queue (stream key suffix, or queue column value). */
export const JOB_QUEUE = 'jobs';

export interface JobSystem {
  /** The queue jobs travel on: Redis Streams when Redis is configured, the PostgreSQL table otherwise. */
  queue: Queue;
  readonly backend: QueueBackend;
  /** Relay (every worker), worker runtime, and the leader-guarded sweeper. */
  runnables: Runnable[];
  close(): Promise<void>;
}

export interface JobSystemOptions {
  config: Config;
  stores: Stores;
  logger: Logger;
  registry: Registry;
  elector: Elector;
  handlers: JobHandlers;
  /** Told when a job has failed for good (the control plane marks its resource failed). */
  onDeadLetter?: (info: DeadLetterInfo) => unknown;
}

/** Which adapter carries the jobs. */
export type QueueBackend = 'postgres' | 'redis-streams';

/**
 * The one job queue: Redis Streams when Redis is configured, the PostgreSQL table otherwise.
 * A worker consumes it; an API process opens it only to report its figures.
 */
export function createJobQueue(
  config: Config,
  stores: Stores,
  logger: Logger,
): { queue: Queue; backend: QueueBackend } {
  const queueLogger = logger.child({ component: 'queue' });
  if (stores.redis)
    return {
      backend: 'redis-streams',
      queue: createRedisStreamsQueue({
        redis: stores.redis,
        prefix: config.redisPrefix,
        name: JOB_QUEUE,
        consumer: config.nodeId,
        logger: queueLogger,
        ...optionsAt(config, 'queue'),
      }),
    };
  return {
    backend: 'postgres',
    queue: createPostgresQueue({
      db: stores.db,
      name: JOB_QUEUE,
      consumer: config.nodeId,
      logger: queueLogger,
      ...optionsAt(config, 'queue'),
    }),
  };
}

/**
 * The durable job path of a worker process (DESIGN.md §4): producers write jobs into the
 * outbox in their own transaction; the relay moves them to the queue; the worker leases each
 * in the ledger, runs its handler, completes, then acks; the sweeper, on one worker at a time,
 * re-dispatches jobs the queue lost.
 */
export function createJobSystem(options: JobSystemOptions): JobSystem {
  const { config, stores, logger, registry, elector } = options;
  const { queue, backend } = createJobQueue(config, stores, logger);
  const jobLogger = logger.child({ component: 'jobs' });
  const worker = createWorker({
    queue,
    ledger: createPostgresLedger(stores.db),
    db: stores.db,
    handlers: withDefaultLease(options.handlers, config.jobLeaseMs),
    nodeId: config.nodeId,
    logger: jobLogger,
    registry,
    ...optionsAt(config, 'worker'),
    ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
  });
  const relay = createOutboxRelay({ db: stores.db, queue, logger: jobLogger, ...optionsAt(config, 'relay') });
  const sweeper = createOutboxSweeper({
    db: stores.db,
    queue,
    logger: jobLogger,
    ...optionsAt(config, 'sweeper'),
  });
  return {
    queue,
    backend,
    runnables: [
      relay,
      worker,
      leaderGuarded(sweeper, controlPlaneKeys.outboxSweeper, elector, config, logger, registry),
    ],
    close: () => queue.close(),
  };
}

/** The handlers with the configured lease on every kind that does not set its own. */
function withDefaultLease(handlers: JobHandlers, leaseMs: number): JobHandlers {
  return Object.fromEntries(
    Object.entries(handlers).map(([kind, h]) => {
      const reg: HandlerRegistration = typeof h === 'function' ? { handler: h } : h;
      return [kind, { ...reg, leaseMs: reg.leaseMs ?? leaseMs }];
    }),
  );
}
