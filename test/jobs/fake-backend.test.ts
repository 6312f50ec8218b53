// The fake backend and its audit checks, fed known-good and known-bad calls directly: the lease
// is read at call time, a refused call is still audited, and each broken guarantee is named.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import type { Lease } from '../../src/ha/ledger/port.js';
import { createPostgresLedger } from '../../src/ha/ledger/postgres-ledger.js';
import type { JobContext } from '../../src/ha/worker/types.js';
import type { TestDatabase } from '../helpers/db.js';
import { auditReport, createFakeBackend } from './fake-backend.js';
import { jobsDatabase } from './harness.js';

let t: TestDatabase;
let db: Database;

beforeAll(async () => {
  ({ t, db } = await jobsDatabase());
});
afterAll(async () => {
  await db.close();
  await t.drop();
});

const ctxOf = (lease: Lease): JobContext => ({
  job: { v: 1, key: lease.jobKey, kind: 'effect', payload: null, enqueuedAt: 0 },
  attempt: lease.attempt,
  token: lease.token,
  clientToken: lease.jobKey,
  signal: new AbortController().signal,
});

async function lease(key: string): Promise<Lease> {
  const r = await createPostgresLedger(db).tryAcquire(key, 'test', 60_000);
  if (!r.acquired) throw new Error(`lease of ${key} refused`);
  return r.lease;
}

/** Ends `old`'s lease the way a crash does (expiry) and leases the job again. */
async function takeOver(old: Lease): Promise<Lease> {
  await db.query(
    `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 second' WHERE job_key = $1`,
    [old.jobKey],
  );
  return lease(old.jobKey);
}

it('accepts calls under the live lease and reports a clean audit', async () => {
  const backend = createFakeBackend(db, 'n1', true);
  const ctx = ctxOf(await lease('good-1'));
  expect(await backend.observe(ctx)).toBe(false);
  await backend.create(ctx);
  expect(await backend.observe(ctx)).toBe(true);
  expect(await auditReport(db)).toMatchObject({ calls: 3, effects: 1, deadLeaseCalls: 0, violations: [] });
});

it('refuses a call under a dead lease with fencing on, and audits it', async () => {
  const backend = createFakeBackend(db, 'n1', true);
  const first = await lease('fenced-1');
  const second = await takeOver(first);
  await expect(backend.create(ctxOf(first))).rejects.toMatchObject({ code: 'FAKE_BACKEND_FENCED' });
  await backend.create(ctxOf(second));
  const report = await auditReport(db);
  expect(report).toMatchObject({ deadLeaseCalls: 1, deadLeaseAccepted: 0, violations: [] });
});

it('names every violation when fencing is off and a stale holder acts', async () => {
  const backend = createFakeBackend(db, 'n1', false);
  const first = await lease('unfenced-1');
  const second = await takeOver(first);
  await backend.create(ctxOf(second));
  await backend.create(ctxOf(first)); // accepted: nothing stops it
  expect((await auditReport(db)).violations).toEqual([
    '1 calls acted on under a dead lease',
    '1 jobs with more than one effect',
    '1 fencing tokens went down',
  ]);
});

it('counts two effects under live leases as a duplicate: the backend itself does not deduplicate', async () => {
  const fenced = createFakeBackend(db, 'n1', true);
  await db.query('TRUNCATE fake_audit');
  const first = await lease('twice-1');
  await fenced.create(ctxOf(first));
  const second = await takeOver(first);
  await fenced.create(ctxOf(second)); // a retry that did not observe first
  const report = await auditReport(db);
  expect(report).toMatchObject({ effects: 2, deadLeaseCalls: 0, keysWithTwoEffects: 1 });
  expect(report.violations).toEqual(['1 jobs with more than one effect']);
});
