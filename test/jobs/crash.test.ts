// G1/G2/G4 with real SIGKILLs: a worker killed in the middle of a job, and one killed between
// the backend call and `complete`. Default lease and visibility timeout (4 s).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import type { TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { enqueueJobs, jobsDatabase, tally, until, WorkerFleet } from './harness.js';

/** Default visibility timeout and lease. */
const VISIBILITY_MS = 4_000;
/** Reclaim scan period (0.5 s) plus scheduling on a loaded two-core machine. */
const MARGIN_MS = 4_000;

let t: TestDatabase;
let db: Database;
let fleet: WorkerFleet;
const redisPrefix = testRedisPrefix();

beforeAll(async () => {
  ({ t, db } = await jobsDatabase());
  fleet = new WorkerFleet({ DATABASE_URL: t.url, REDIS_URL, QUEUE_PREFIX: redisPrefix.prefix });
});
afterEach(async () => {
  await fleet.killAll();
});
afterAll(async () => {
  await fleet.killAll();
  await db.close();
  await t.drop();
  await redisPrefix.cleanup();
});

async function twoWorkers(tag: string) {
  const a = fleet.spawn(`${tag}-a`);
  const b = fleet.spawn(`${tag}-b`);
  await Promise.all([fleet.ready(a), fleet.ready(b)]);
  return [a, b] as const;
}

describe('a live worker that is slow', () => {
  it('keeps a job longer than its lease through a 2 s event-loop stall: never run twice', async () => {
    await twoWorkers('slow');
    // 2 s without a heartbeat (four periods) on top of up to one period before it: 2.5 s of the
    // 3.5 s a lease outlives its last renewal. The job itself runs 6 s, past the 4 s lease.
    await enqueueJobs(db, [
      { key: 'slow-job', kind: 'effect', payload: { stallFirstAttemptMs: 2_000, workMs: 6_000 } },
    ]);
    await until(
      async () =>
        (await db.query(`SELECT 1 FROM stratus_ledger WHERE job_key = 'slow-job' AND state = 'completed'`))
          .rowCount === 1,
      30_000,
      'completion',
    );
    const starts = fleet.events.filter((e) => e.event === 'started' && e.key === 'slow-job');
    expect(starts.map((e) => e.attempt)).toEqual([1]);
    const entry = await db.query<{ attempt: number }>(
      `SELECT attempt FROM stratus_ledger WHERE job_key = 'slow-job'`,
    );
    expect(entry.rows[0]!.attempt).toBe(1);
    expect((await tally(db)).audit.violations).toEqual([]);
  });
});

describe('a worker killed with SIGKILL', () => {
  it('in the middle of a job: another worker runs it again within the visibility timeout, once', async () => {
    const workers = await twoWorkers('mid');
    await enqueueJobs(db, [{ key: 'mid-job', kind: 'effect', payload: { holdFirstAttempt: true } }]);
    const first = await fleet.waitFor(
      (e) => e.event === 'started' && e.key === 'mid-job',
      20_000,
      'first start',
    );
    const victim = workers.find((w) => w.nodeId === first.nodeId)!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    const second = await fleet.waitFor(
      (e) => e.event === 'started' && e.key === 'mid-job' && e.attempt === 2,
      VISIBILITY_MS + MARGIN_MS + 10_000,
      'the second attempt',
    );
    expect(second.nodeId).not.toBe(victim.nodeId);
    expect(second.at - killedAt).toBeLessThan(VISIBILITY_MS + MARGIN_MS);
    await until(
      async () =>
        (await db.query(`SELECT 1 FROM stratus_ledger WHERE job_key = 'mid-job' AND state = 'completed'`))
          .rowCount === 1,
      15_000,
      'completion',
    );
    const audit = await db.query(
      'SELECT op, attempt, accepted, lease_live, node FROM fake_audit WHERE client_token = $1 ORDER BY id',
      ['mid-job'],
    );
    expect(audit.rows).toEqual([
      { op: 'observe', attempt: 2, accepted: true, lease_live: true, node: second.nodeId },
      { op: 'create', attempt: 2, accepted: true, lease_live: true, node: second.nodeId },
    ]);
    expect((await tally(db)).audit.violations).toEqual([]);
  });

  it('between the backend call and complete: the retry observes the effect under the same client token, one effect', async () => {
    const workers = await twoWorkers('gap');
    await enqueueJobs(db, [{ key: 'gap-job', kind: 'effect', payload: { hangAfterEffect: true } }]);
    const first = await fleet.waitFor(
      (e) => e.event === 'effect' && e.key === 'gap-job',
      20_000,
      'first effect',
    );
    workers.find((w) => w.nodeId === first.nodeId)!.kill('SIGKILL');
    await fleet.waitFor(
      (e) => e.event === 'effect' && e.key === 'gap-job' && e.attempt === 2,
      VISIBILITY_MS + MARGIN_MS + 10_000,
      'the retry reaching the backend',
    );
    await until(
      async () =>
        (await db.query(`SELECT 1 FROM stratus_ledger WHERE job_key = 'gap-job' AND state = 'completed'`))
          .rowCount === 1,
      15_000,
      'completion',
    );
    const audit = await db.query<{ op: string; attempt: number; fencing_token: string; lease_live: boolean }>(
      'SELECT op, attempt, fencing_token, lease_live FROM fake_audit WHERE client_token = $1 ORDER BY id',
      ['gap-job'],
    );
    // The first attempt made the effect; the retry, under a new lease, found it and made none.
    expect(audit.rows.map((r) => [r.op, r.attempt, r.lease_live])).toEqual([
      ['observe', 1, true],
      ['create', 1, true],
      ['observe', 2, true],
    ]);
    expect(Number(audit.rows[2]!.fencing_token)).toBeGreaterThan(Number(audit.rows[1]!.fencing_token));
    expect((await tally(db)).audit.violations).toEqual([]);
  });
});
