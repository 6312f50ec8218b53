// G1/G2 under churn: 2,000 jobs while worker processes are SIGKILLed and restarted at random.
// At the end the ledger, the fake backend's audit, the outbox and the queue must agree: every
// job completed, one effect each counted from the audit, no call under a dead lease, nothing
// left in limbo.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import { delay } from '../../src/ha/job/wake.js';
import { createOutboxSweeper } from '../../src/ha/outbox/sweeper.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import type { TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { enqueueJobs, jobsDatabase, tally, until, type WorkerChild, WorkerFleet } from './harness.js';

const JOBS = 2_000;
const SLOTS = 3;
const MAX_KILLS = 10;

let t: TestDatabase;
let db: Database;
let fleet: WorkerFleet;
let redis: Redis;
const redisPrefix = testRedisPrefix();

beforeAll(async () => {
  ({ t, db } = await jobsDatabase());
  redis = new Redis(REDIS_URL);
  fleet = new WorkerFleet({ DATABASE_URL: t.url, REDIS_URL, QUEUE_PREFIX: redisPrefix.prefix });
});
afterEach(async () => {
  await fleet.killAll();
});
afterAll(async () => {
  await fleet.killAll();
  redis.disconnect();
  await db.close();
  await t.drop();
  await redisPrefix.cleanup();
});

it('completes 2,000 jobs exactly once while workers are killed and restarted at random', async () => {
  // A fixed-seed generator: a failing run can be replayed.
  let seed = 0x5eed;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const generation = new Array<number>(SLOTS).fill(0);
  const spawnSlot = (slot: number): WorkerChild =>
    fleet.spawn(`chaos-${slot}-${++generation[slot]!}`, { CONCURRENCY: '8', MAX_ATTEMPTS: '10' });
  const slots = Array.from({ length: SLOTS }, (_, i) => spawnSlot(i));
  await Promise.all(slots.map((w) => fleet.ready(w)));

  const queue = createRedisStreamsQueue({
    redis,
    name: 'jobs',
    consumer: 'sweeper',
    prefix: redisPrefix.prefix,
  });
  const sweeper = createOutboxSweeper({ db, queue, graceMs: 10_000 });
  await enqueueJobs(
    db,
    Array.from({ length: JOBS }, (_, i) => ({
      key: `chaos-${i}`,
      kind: 'effect',
      payload: { workMs: 30 + Math.floor(random() * 90) },
    })),
  );

  let kills = 0;
  while (kills < MAX_KILLS && ((await tally(db)).ledger.completed ?? 0) < JOBS * 0.9) {
    await delay(600 + random() * 700);
    const slot = Math.floor(random() * SLOTS);
    slots[slot]!.kill('SIGKILL');
    kills++;
    slots[slot] = spawnSlot(slot);
  }
  expect(kills).toBeGreaterThanOrEqual(3);

  await until(
    async () => {
      await sweeper.sweepOnce();
      return (await tally(db)).ledger.completed === JOBS;
    },
    90_000,
    'every job completed',
  );
  const end = await tally(db);
  expect(end.ledger).toEqual({ completed: JOBS });
  // The audit, counted from every call the backend saw: one effect per job, and no call from a
  // worker whose lease had ended (killed workers make no calls; live ones keep their leases).
  expect(end.audit.violations).toEqual([]);
  expect(end.audit.effects).toBe(JOBS);
  expect(end.audit.deadLeaseCalls).toBe(0);
  expect(end.outboxUnfinished).toBe(0);
  // Copies held by killed consumers are reclaimed, found completed and acknowledged.
  await until(
    async () => {
      const s = await queue.stats();
      return s.length === 0 && s.delayed === 0 && s.deadLetters === 0;
    },
    30_000,
    'an empty queue',
  );
  await queue.close();
}, 170_000);
