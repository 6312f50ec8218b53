// G1 when Redis loses every key in the middle of a run: the outbox and the ledger in
// PostgreSQL still know every unfinished job, and the sweeper dispatches it again.
//
// The wipe is FLUSHDB on a logical Redis database of this file's own: for Stratus it is the
// same event as FLUSHALL (stream, consumer group, pending lists, delayed set and dead letters
// all gone at once), without erasing the keys of test files that run alongside this one.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import { createOutboxSweeper } from '../../src/ha/outbox/sweeper.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import type { TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/services.js';
import { enqueueJobs, jobsDatabase, tally, until, WorkerFleet } from './harness.js';

const JOBS = 1_000;
const redisUrl = new URL(REDIS_URL);
redisUrl.pathname = '/13';
const prefix = `stratus-test:loss:${process.pid}:${Date.now()}:`;

let t: TestDatabase;
let db: Database;
let fleet: WorkerFleet;
let redis: Redis;

beforeAll(async () => {
  ({ t, db } = await jobsDatabase());
  redis = new Redis(redisUrl.toString());
  fleet = new WorkerFleet({ DATABASE_URL: t.url, REDIS_URL: redisUrl.toString(), QUEUE_PREFIX: prefix });
});
afterEach(async () => {
  await fleet.killAll();
});
afterAll(async () => {
  await fleet.killAll();
  await redis.flushdb();
  redis.disconnect();
  await db.close();
  await t.drop();
});

it('completes every job, each with one backend call, after a FLUSHDB mid-run', async () => {
  const workers = [
    fleet.spawn('loss-a', { CONCURRENCY: '10' }),
    fleet.spawn('loss-b', { CONCURRENCY: '10' }),
  ];
  await Promise.all(workers.map((w) => fleet.ready(w)));
  const queue = createRedisStreamsQueue({ redis, name: 'jobs', consumer: 'sweeper', prefix });
  // A short grace for the test; production keeps several visibility timeouts (default 30 s).
  const sweeper = createOutboxSweeper({ db, queue, graceMs: 2_000 });

  await enqueueJobs(
    db,
    Array.from({ length: JOBS }, (_, i) => ({ key: `loss-${i}`, kind: 'effect', payload: { workMs: 40 } })),
  );
  await until(async () => (await tally(db)).audit.effects >= 200, 30_000, '200 effects');
  await redis.flushdb();
  const atWipe = await tally(db);
  expect(atWipe.audit.effects).toBeLessThan(JOBS * 0.8);

  let redispatched = 0;
  await until(
    async () => {
      redispatched += (await sweeper.sweepOnce()).redispatched;
      return (await tally(db)).ledger.completed === JOBS;
    },
    90_000,
    'every job completed',
  );
  const end = await tally(db);
  expect(redispatched).toBeGreaterThan(0);
  expect(end.ledger).toEqual({ completed: JOBS });
  expect(end.audit.violations).toEqual([]);
  expect(end.audit.effects).toBe(JOBS);
  // No crash in this run: the ledger turned every duplicate message into a no-op, so each job
  // reached the backend once (one observe, one create).
  expect(end.audit.calls).toBe(2 * JOBS);
  expect(end.audit.deadLeaseCalls).toBe(0);
  expect(end.outboxUnfinished).toBe(0);
  await queue.close();
}, 150_000);
