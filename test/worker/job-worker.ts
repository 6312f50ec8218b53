// A worker process for the crash tests: outbox relay + durable worker on Redis Streams and
// PostgreSQL, with one job kind, `effect`, that observes then creates its effect on a fake
// backend (../jobs/fake-backend.ts, an audit table in the test's database). It reports on
// stdout, one JSON object a line, so the test can kill it at a chosen moment. Configured by
// environment variables: NODE_ID, DATABASE_URL, REDIS_URL, QUEUE_PREFIX, CONCURRENCY,
// MAX_ATTEMPTS, LEASE_MS, and FENCING=off to make the backend accept calls under a dead lease.
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { delay } from '../../src/ha/job/wake.js';
import { createOutboxRelay } from '../../src/ha/outbox/relay.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import { createRedis } from '../../src/ha/redis/connection.js';
import type { JobContext } from '../../src/ha/worker/types.js';
import { createWorker } from '../../src/ha/worker/worker.js';
import { createFakeBackend } from '../jobs/fake-backend.js';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const nodeId = env('NODE_ID');
const emit = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ ...event, nodeId })}\n`);
const logger = {
  info() {},
  debug() {},
  warn: (obj: object, msg?: string) => process.stderr.write(`${nodeId} WARN ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj: object, msg?: string) =>
    process.stderr.write(`${nodeId} ERROR ${msg} ${JSON.stringify(obj)}\n`),
};

const db = createPgDatabase({ connectionString: env('DATABASE_URL'), max: 6, applicationName: nodeId });
const redis = createRedis({ url: env('REDIS_URL'), connectionName: nodeId, onError: () => {} });
const queue = createRedisStreamsQueue({ redis, name: 'jobs', consumer: nodeId, prefix: env('QUEUE_PREFIX') });

const backend = createFakeBackend(db, nodeId, env('FENCING', 'on') !== 'off');

interface EffectPayload {
  /** Work time before the backend call. */
  workMs?: number;
  /**
   * The first attempt first blocks this process's event loop for this long (a CPU-bound
   * stretch, a long GC pause): no heartbeat goes out meanwhile.
   */
  stallFirstAttemptMs?: number;
  /** The first attempt blocks before the backend call (until aborted): the test kills it there. */
  holdFirstAttempt?: boolean;
  /** The first attempt blocks after the backend call, before `complete`. */
  hangAfterEffect?: boolean;
  /**
   * The first attempt observes, then ignores its abort signal and waits until another attempt
   * made the effect, then creates it anyway: a handler that outlived its lease (the test
   * SIGSTOPs this process meanwhile). Only fencing keeps its call from a second effect.
   */
  zombie?: boolean;
}

/** Waits, deaf to any abort, until an attempt other than `ctx`'s made the effect. */
async function untilAnotherEffect(ctx: JobContext): Promise<void> {
  while (!(await backend.effectByOtherLease(ctx))) await delay(50);
}

/** Observe, then create unless the effect exists: the driver's idempotence over a crash. */
async function callBackend(ctx: JobContext, p: EffectPayload): Promise<void> {
  const found = await backend.observe(ctx);
  if (p.zombie && ctx.attempt === 1) {
    emit({ event: 'observed', key: ctx.job.key, attempt: ctx.attempt });
    await untilAnotherEffect(ctx);
    const accepted = await backend.create(ctx).then(
      () => true,
      () => false,
    );
    emit({ event: 'zombie-call', key: ctx.job.key, attempt: ctx.attempt, accepted });
    return;
  }
  if (!found) await backend.create(ctx);
  emit({ event: 'effect', key: ctx.job.key, attempt: ctx.attempt, effect: !found });
}

const never = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

const worker = createWorker({
  queue,
  db,
  nodeId,
  logger,
  concurrency: Number(env('CONCURRENCY', '20')),
  handlers: {
    effect: {
      maxAttempts: Number(env('MAX_ATTEMPTS', '5')),
      // The default lease unless LEASE_MS says otherwise (to see the slow-worker test fail).
      ...(process.env.LEASE_MS ? { leaseMs: Number(process.env.LEASE_MS) } : {}),
      handler: async (ctx) => {
        const p = (ctx.job.payload ?? {}) as EffectPayload;
        emit({ event: 'started', key: ctx.job.key, attempt: ctx.attempt });
        if (p.stallFirstAttemptMs && ctx.attempt === 1) {
          const until = Date.now() + p.stallFirstAttemptMs;
          while (Date.now() < until) {} // deliberately synchronous
        }
        if (p.holdFirstAttempt && ctx.attempt === 1) await never(ctx.signal);
        if (p.workMs) await delay(p.workMs, ctx.signal);
        await callBackend(ctx, p);
        if (p.hangAfterEffect && ctx.attempt === 1) await never(ctx.signal);
      },
    },
  },
});
const relay = createOutboxRelay({ db, queue, logger });

const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
const running = Promise.all([worker.start(controller.signal), relay.start(controller.signal)]);
emit({ event: 'ready', pid: process.pid });
await running;
await queue.close();
redis.disconnect();
await db.close();
emit({ event: 'stopped' });
