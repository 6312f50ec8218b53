// G2 against a handler that outlives its lease: the worker running it is SIGSTOPped after the
// handler observed "no effect yet"; its lease expires and another worker runs the job and makes
// the effect; on SIGCONT the first handler, deaf to its abort signal, creates the effect too.
// With fencing on, the backend refuses that call (its token is no longer the live lease) and the
// audit is clean. With fencing off, the SAME run must make the audit checks fail: a call acted
// on under a dead lease, and a job with two effects. This is what shows they can fail.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import type { TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { enqueueJobs, jobsDatabase, tally, until, WorkerFleet } from './harness.js';

let t: TestDatabase;
let db: Database;
const redisPrefix = testRedisPrefix();
const fleets: WorkerFleet[] = [];

beforeAll(async () => {
  ({ t, db } = await jobsDatabase());
});
afterEach(async () => {
  await Promise.all(fleets.map((f) => f.killAll()));
});
afterAll(async () => {
  await db.close();
  await t.drop();
  await redisPrefix.cleanup();
});

/** Runs the zombie scenario with the backend's fencing on or off; returns the audit's report. */
async function zombieRun(fencing: 'on' | 'off') {
  const fleet = new WorkerFleet({
    DATABASE_URL: t.url,
    REDIS_URL,
    QUEUE_PREFIX: `${redisPrefix.prefix}${fencing}:`,
  });
  fleets.push(fleet);
  const key = `zombie-${fencing}`;
  const env = { FENCING: fencing };
  const workers = [fleet.spawn(`${key}-a`, env), fleet.spawn(`${key}-b`, env)];
  await Promise.all(workers.map((w) => fleet.ready(w)));
  await enqueueJobs(db, [{ key, kind: 'effect', payload: { zombie: true } }]);
  const observed = await fleet.waitFor(
    (e) => e.event === 'observed' && e.key === key,
    20_000,
    'the first attempt to observe',
  );
  const zombie = workers.find((w) => w.nodeId === observed.nodeId)!;
  zombie.kill('SIGSTOP');
  try {
    await until(
      async () =>
        (await db.query(`SELECT 1 FROM stratus_ledger WHERE job_key = $1 AND state = 'completed'`, [key]))
          .rowCount === 1,
      30_000,
      'the job completed by the other worker',
    );
  } finally {
    zombie.kill('SIGCONT');
  }
  const call = await fleet.waitFor(
    (e) => e.event === 'zombie-call' && e.key === key,
    20_000,
    "the stopped handler's late call",
  );
  await fleet.killAll();
  const effects = await db.query<{ node: string; attempt: number; lease_live: boolean }>(
    `SELECT node, attempt, lease_live FROM fake_audit WHERE client_token = $1 AND op = 'create' AND accepted
     ORDER BY id`,
    [key],
  );
  return { call, effects: effects.rows, zombie: zombie.nodeId };
}

describe('a handler that outlives its lease calls the backend with its stale fencing token', () => {
  it('fencing on: the call is refused and the audit is clean', async () => {
    const run = await zombieRun('on');
    expect(run.call.accepted).toBe(false);
    expect(run.effects).toHaveLength(1);
    expect(run.effects[0]).toMatchObject({ attempt: 2, lease_live: true });
    expect(run.effects[0]!.node).not.toBe(run.zombie);
    const audit = (await tally(db)).audit;
    expect(audit.violations).toEqual([]);
    // The late call reached the backend and was refused: audited as under a dead lease, not acted on.
    expect(audit.deadLeaseCalls).toBe(1);
    expect(audit.deadLeaseAccepted).toBe(0);
  }, 90_000);

  it('fencing off: the same run makes the audit checks fail', async () => {
    const before = (await tally(db)).audit;
    const run = await zombieRun('off');
    expect(run.call.accepted).toBe(true);
    expect(run.effects.map((e) => [e.attempt, e.lease_live])).toEqual([
      [2, true],
      [1, false],
    ]);
    const audit = (await tally(db)).audit;
    expect(audit.deadLeaseAccepted - before.deadLeaseAccepted).toBe(1);
    expect(audit.violations).toEqual([
      '1 calls acted on under a dead lease',
      '1 jobs with more than one effect',
      '1 fencing tokens went down',
    ]);
  }, 90_000);
});
