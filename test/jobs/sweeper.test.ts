// G1 through the production sweeper path: two worker processes' wiring (startApp, role
// worker: relay, worker, and the outbox sweeper under its LeaderGuard, with the sweeper's
// configured grace) and a job whose message was lost from Redis after the outbox had marked
// it dispatched. The leader's sweeper must dispatch it again once the grace has passed (not
// before), and the job must complete exactly once.
import { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Database } from '../../src/ha/db/database.js';
import { createOutboxRelay } from '../../src/ha/outbox/relay.js';
import { DEFAULT_SWEEPER_GRACE_MS } from '../../src/ha/outbox/sweeper.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import type { JobContext } from '../../src/ha/worker/types.js';
import { type App, startApp } from '../../src/runtime/app.js';
import { JOB_QUEUE } from '../../src/runtime/jobs.js';
import type { TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { createFakeBackend } from './fake-backend.js';
import { enqueueJobs, jobsDatabase, tally, until } from './harness.js';

/**
 * The grace `createJobSystem` gives its sweeper (createOutboxSweeper's default): a stranded job
 * is sent again no sooner than this after its last dispatch.
 */
const PRODUCTION_GRACE_MS = DEFAULT_SWEEPER_GRACE_MS;
/** The sweeper runs every grace / 3, so it acts within one more period; plus scheduling. */
const REDISPATCH_WITHIN_MS = PRODUCTION_GRACE_MS + PRODUCTION_GRACE_MS / 3 + 15_000;

let t: TestDatabase;
let db: Database;
let redis: Redis;
const redisPrefix = testRedisPrefix();
const apps: App[] = [];

beforeAll(async () => {
  ({ t, db } = await jobsDatabase());
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.shutdown('test')));
  redis.disconnect();
  await db.close();
  await t.drop();
  await redisPrefix.cleanup();
});

/** A pino logger whose records land in `into`. */
function capture(into: Array<Record<string, unknown>>): Logger {
  return pino({ level: 'info' }, { write: (line: string) => void into.push(JSON.parse(line)) });
}

async function startWorker(nodeId: string, runs: JobContext[], logs: Array<Record<string, unknown>>) {
  const config = {
    ...loadConfig(),
    role: 'worker' as const,
    nodeId,
    databaseUrl: t.url,
    redisUrl: REDIS_URL,
    redisPrefix: redisPrefix.prefix,
  };
  const backend = createFakeBackend(db, nodeId, true);
  const app = await startApp(config, {
    logger: capture(logs),
    handlers: {
      effect: async (ctx) => {
        runs.push(ctx);
        if (!(await backend.observe(ctx))) await backend.create(ctx);
      },
    },
  });
  apps.push(app);
  return app;
}

it('the leader-guarded sweeper re-dispatches a job lost from Redis after its grace; it completes once', async () => {
  const key = 'lost-in-redis';
  await enqueueJobs(db, [{ key, kind: 'effect' }]);
  // Dispatch it the way a relay does, then lose the message: the stream is deleted with it.
  const queue = createRedisStreamsQueue({
    redis,
    name: JOB_QUEUE,
    consumer: 'test',
    prefix: redisPrefix.prefix,
  });
  expect(await createOutboxRelay({ db, queue }).dispatchOnce()).toBe(1);
  await queue.close();
  const dispatched = await db.query<{ at: Date }>(
    'SELECT dispatched_at AS at FROM stratus_outbox WHERE job_key = $1 AND done_at IS NULL',
    [key],
  );
  const firstDispatch = dispatched.rows[0]!.at.getTime();
  expect(await redis.del(`${redisPrefix.prefix}${JOB_QUEUE}`)).toBe(1);

  const runs: JobContext[] = [];
  const logs: Record<string, Array<Record<string, unknown>>> = { 'sweep-a': [], 'sweep-b': [] };
  await Promise.all(Object.entries(logs).map(([node, into]) => startWorker(node, runs, into)));

  await until(
    async () =>
      (await db.query(`SELECT 1 FROM stratus_ledger WHERE job_key = $1 AND state = 'completed'`, [key]))
        .rowCount === 1,
    REDISPATCH_WITHIN_MS,
    'the lost job to be re-dispatched and completed',
  );
  const row = await db.query<{ at: Date; count: number; done: Date | null }>(
    'SELECT dispatched_at AS at, dispatch_count AS count, done_at AS done FROM stratus_outbox WHERE job_key = $1',
    [key],
  );
  // Sent again once, by the sweeper, no sooner than its grace after the first dispatch.
  expect(row.rows[0]!.count).toBe(2);
  expect(row.rows[0]!.at.getTime() - firstDispatch).toBeGreaterThanOrEqual(PRODUCTION_GRACE_MS);
  // Exactly one of the two processes led the sweeper's key, and only it swept.
  const said = (msg: string) =>
    Object.entries(logs).flatMap(([node, records]) =>
      records.filter((l) => l.msg === msg).map((l): Record<string, unknown> => ({ ...l, node })),
    );
  const led = said('leading outbox-sweeper');
  expect(led).toHaveLength(1);
  const sweeps = said('outbox sweeper: re-dispatched stranded jobs');
  expect(sweeps.map((l) => [l.node, l.redispatched])).toEqual([[led[0]!.node, 1]]);

  // Once: one run, one effect, a clean audit; and the sweeper then marks the outbox row done.
  expect(runs.map((r) => [r.job.key, r.attempt])).toEqual([[key, 1]]);
  const audit = (await tally(db)).audit;
  expect(audit.violations).toEqual([]);
  expect(audit.effects).toBe(1);
  await until(
    async () =>
      (await db.query('SELECT 1 FROM stratus_outbox WHERE job_key = $1 AND done_at IS NOT NULL', [key]))
        .rowCount === 1,
    PRODUCTION_GRACE_MS,
    'the outbox row marked done',
  );
}, 120_000);
