// A worker process for the crash tests: outbox relay + durable worker on Redis Streams and
// PostgreSQL, with one job kind, `effect`, that calls a fake backend (tables in the test's
// database). It reports on stdout, one JSON object a line, so the test can kill it at a chosen
// moment. Configured by environment variables (see `WorkerChildEnv` in ../jobs/harness.ts).
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { delay } from '../../src/ha/job/wake.js';
import { createOutboxRelay } from '../../src/ha/outbox/relay.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import { createRedis } from '../../src/ha/redis/connection.js';
import type { JobContext } from '../../src/ha/worker/types.js';
import { createWorker } from '../../src/ha/worker/worker.js';

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

interface EffectPayload {
  /** Work time before the backend call. */
  workMs?: number;
  /** The first attempt blocks before the backend call (until aborted): the test kills it there. */
  holdFirstAttempt?: boolean;
  /** The first attempt blocks after the backend call, before `complete`. */
  hangAfterEffect?: boolean;
}

/** The fake backend: one statement records the call and creates the effect once per client token. */
async function backendCall(ctx: JobContext): Promise<boolean> {
  const res = await db.query<{ effect: boolean }>(
    `WITH e AS (
       INSERT INTO fake_effects (client_token, fencing_token, node) VALUES ($1, $2, $3)
       ON CONFLICT (client_token) DO NOTHING RETURNING 1
     )
     INSERT INTO fake_audit (client_token, fencing_token, node, attempt, effect)
     SELECT $1, $2, $3, $4, EXISTS (SELECT 1 FROM e) RETURNING effect`,
    [ctx.clientToken, ctx.token, nodeId, ctx.attempt],
  );
  return res.rows[0]!.effect;
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
      handler: async (ctx) => {
        const p = (ctx.job.payload ?? {}) as EffectPayload;
        emit({ event: 'started', key: ctx.job.key, attempt: ctx.attempt });
        if (p.holdFirstAttempt && ctx.attempt === 1) await never(ctx.signal);
        if (p.workMs) await delay(p.workMs, ctx.signal);
        const effect = await backendCall(ctx);
        emit({ event: 'effect', key: ctx.job.key, attempt: ctx.attempt, effect });
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
