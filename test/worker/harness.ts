import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import type { ExecutionLedger } from '../../src/ha/ledger/port.js';
import { createPostgresLedger } from '../../src/ha/ledger/postgres-ledger.js';
import type { Queue, QueueOptions } from '../../src/ha/queue/port.js';
import { createPostgresQueue } from '../../src/ha/queue/postgres/postgres-queue.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import type { WorkerOptions } from '../../src/ha/worker/types.js';
import { createWorker } from '../../src/ha/worker/worker.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { migratedDatabase, uniqueQueueName } from './databases.js';

export { until } from '../helpers/poll.js';

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const jobKey = (): string => `job-${randomUUID()}`;

export type Transport = 'postgres' | 'redis';

export interface MessageRow {
  held: boolean;
  delayed: boolean;
  /** Until the message is due, for a delayed one. */
  dueInMs: number;
  deliveries: number;
}

/**
 * The worker's test bench on real adapters: the ledger on an in-process PGlite, and the queue
 * either the Postgres table on that same database (the embedded default) or Redis Streams
 * under a key prefix of the file's own. No test double of the queue: one that drifted from the
 * contract would let the tests pass on rules the real queues do not keep.
 */
export function workerBench(transport: Transport = 'postgres') {
  const t = migratedDatabase('pglite');
  let ledger: ExecutionLedger | undefined;
  let redis: Redis | undefined;
  const redisPrefix = testRedisPrefix();
  const stops: (() => Promise<void>)[] = [];
  const queues: Queue[] = [];

  beforeAll(() => {
    ledger = createPostgresLedger(t.db);
    if (transport === 'redis') redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
    await Promise.all(queues.splice(0).map((q) => q.close()));
  });
  afterAll(async () => {
    if (redis) {
      redis.disconnect();
      await redisPrefix.cleanup();
    }
  });

  /** A queue of the test's own: handles per consumer, and what it holds. */
  function testQueue(options: Partial<QueueOptions> = {}) {
    const name = uniqueQueueName();
    const consumer = (id: string, more: Partial<QueueOptions> = {}): Queue => {
      const settings = { name, consumer: id, ...options, ...more };
      const q =
        transport === 'redis'
          ? createRedisStreamsQueue({ redis: redis!, prefix: redisPrefix.prefix, ...settings })
          : createPostgresQueue({ db: t.db, ...settings });
      queues.push(q);
      return q;
    };
    const producer = consumer('producer');
    return {
      name,
      producer,
      consumer,
      /** The Postgres queue's rows (postgres transport only). */
      async messages(): Promise<MessageRow[]> {
        if (transport !== 'postgres') throw new Error('messages() reads the Postgres queue table');
        const res = await t.db.query<{
          held: boolean;
          delayed: boolean;
          due_in_ms: number;
          deliveries: number;
        }>(
          `SELECT locked_until IS NOT NULL AS held, available_at > now() AS delayed,
                  extract(epoch FROM available_at - now()) * 1000 AS due_in_ms, deliveries
           FROM stratus_queue_messages WHERE queue = $1 ORDER BY id`,
          [name],
        );
        return res.rows.map((r) => ({
          held: r.held,
          delayed: r.delayed,
          dueInMs: Number(r.due_in_ms),
          deliveries: Number(r.deliveries),
        }));
      },
      /** Messages in the queue, delayed ones included (both transports). */
      async size(): Promise<number> {
        const s = await producer.stats();
        return s.length + s.delayed;
      },
      deadLetters: () => producer.deadLetters(100),
      /** Makes every delayed message due now: the test's stand-in for time passing (postgres). */
      async expireDelays(): Promise<void> {
        await t.db.query('UPDATE stratus_queue_messages SET available_at = now() WHERE queue = $1', [name]);
      },
    };
  }

  /** Starts a worker on `q`, stopped after the test. Fast timings: the rules, not the defaults. */
  function startWorker(q: TestQueue, options: Partial<WorkerOptions> & Pick<WorkerOptions, 'handlers'>) {
    const controller = new AbortController();
    const worker = createWorker({
      queue: q.consumer(options.nodeId ?? 'w1'),
      ledger: ledger!,
      nodeId: 'w1',
      registry: new Registry(),
      heartbeatMs: 50,
      reclaimMs: 100,
      promoteMs: 20,
      receiveBlockMs: 50,
      random: () => 0,
      ...options,
    });
    const done = worker.start(controller.signal);
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        controller.abort();
        await done;
      })();
      return stopped;
    };
    stops.push(stop);
    return { worker, stop, done };
  }
  type TestQueue = ReturnType<typeof testQueue>;

  return {
    get db(): Database {
      return t.db;
    },
    get ledger(): ExecutionLedger {
      if (!ledger) throw new Error('the ledger is built in beforeAll');
      return ledger;
    },
    testQueue,
    startWorker,
  };
}

export type WorkerBench = ReturnType<typeof workerBench>;
export type BenchQueue = ReturnType<WorkerBench['testQueue']>;

/** A logger that keeps every line, for assertions on what was (not) logged. */
export function recordingLogger() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, msg: msg ?? '', obj });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } };
}
