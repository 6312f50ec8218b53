// Housekeeping against a real PostgreSQL: a pass removes what is past its retention and nothing
// its rules keep (an idempotency record in force, an unfinished, failed or recent job, a
// resource's newest operation, a key's newest term), judged by the audit on the tables before
// and after; the audit fails on passes known to be bad; small batches walk a long outbox to
// its end and start over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/control/idempotency.js';
import type { PassContext } from '../../src/controllers/framework/define.js';
import {
  type HousekeepingState,
  housekeepingViolations,
  readHousekeepingState,
} from '../../src/controllers/housekeeping/audit.js';
import { housekeepingController, type Removed } from '../../src/controllers/housekeeping/controller.js';
import { isStaleFencingTokenError } from '../../src/core/errors/backend-errors.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { migrations } from '../../src/migrations/index.js';
import { createSimBackends } from '../../src/sim/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const retention = { eventsMs: 7 * DAY, jobsMs: 7 * DAY, journalMs: 30 * DAY };
const key = new LeaderKeyRegistry().register('housekeeping', 119);

describe('housekeeping', () => {
  let t: TestDatabase;
  let db: Database;
  let elector: MemoryElector;
  let term: LeaderTerm;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 3 });
    await migrate(db, migrations);
    elector = new MemoryElector('node-a', new MemoryLeadership(), db);
    term = await elector.campaign(key, new AbortController().signal);
  });
  afterAll(async () => {
    await elector?.close();
    await db?.close();
    await t?.drop();
  });

  const ctx = (now: number): PassContext => ({
    signal: term.signal,
    term,
    epoch: term.epoch,
    now: () => now,
    db,
    fenced: (fn) => fencedTransaction(db, term, fn),
  });
  /** An interval `ms` ago, for SQL. */
  const ago = (ms: number) => `${ms / 1000} seconds`;

  const resource = (id: string) =>
    db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       VALUES ($1, 't1', 'networks', $1, '{}'::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'))`,
      [id],
    );

  /** A job as the outbox, the ledger and the operations hold it, aged as told. */
  const job = async (
    jobKey: string,
    j: {
      ledger: 'running' | 'completed' | 'failed';
      finishedAgo?: number;
      doneAgo?: number | null;
      operation?: { resource: string; generation: number; state: string };
    },
  ) => {
    await db.query(
      `INSERT INTO stratus_outbox (job_key, body, created_at, dispatched_at, done_at)
       VALUES ($1, '{}', now() - $2::interval, now() - $2::interval,
               CASE WHEN $3::text IS NULL THEN NULL ELSE now() - $3::interval END)`,
      [
        jobKey,
        ago((j.finishedAgo ?? 0) + HOUR),
        j.doneAgo === null ? null : ago(j.doneAgo ?? j.finishedAgo ?? 0),
      ],
    );
    await db.query(
      `INSERT INTO stratus_ledger (job_key, state, owner, token, attempt, lease_expires_at, finished_at)
       VALUES ($1, $2, 'w', nextval('stratus_ledger_token_seq'), 1,
               CASE WHEN $2 = 'running' THEN now() + interval '1 minute' END,
               CASE WHEN $2 = 'running' THEN NULL ELSE now() - $3::interval END)`,
      [jobKey, j.ledger, ago(j.finishedAgo ?? 0)],
    );
    if (j.operation)
      await db.query(
        `INSERT INTO stratus_operations (id, tenant, kind, resource_id, verb, generation, job_key, state, finished_at)
         VALUES ($1, 't1', 'networks', $2, 'update', $3, $4, $5,
                 CASE WHEN $5 IN ('pending', 'running') THEN NULL ELSE now() END)`,
        [`op_${jobKey}`, j.operation.resource, j.operation.generation, jobKey, j.operation.state],
      );
  };

  const journal = (keyId: number, epoch: number, acquiredAgo: number, endedAgo: number | null) =>
    db.query(
      `INSERT INTO stratus_leadership_journal (key_id, key, epoch, holder, backend_pid, acquired_at, ended_at)
       VALUES ($1::integer, 'k' || $1::integer, $2, 'n', 1, now() - $3::interval,
               CASE WHEN $4::text IS NULL THEN NULL ELSE now() - $4::interval END)`,
      [keyId, epoch, ago(acquiredAgo), endedAgo === null ? null : ago(endedAgo)],
    );

  const idempotency = (k: string, expiresIn: number) =>
    db.query(
      `INSERT INTO stratus_idempotency (tenant, key, fingerprint, answer_status, answer_body, expires_at)
       VALUES ('t1', $1, $2, 202, '{}', now() + $3::interval)`,
      [k, fingerprintOf('POST', '/v1/networks', { k }), `${expiresIn / 1000} seconds`],
    );

  const counts = (s: HousekeepingState) =>
    Object.fromEntries(Object.entries(s).map(([table, rows]) => [table, (rows as unknown[]).length]));

  it('removes what is past its retention and keeps every row its rules keep', async () => {
    await idempotency('expired', -HOUR);
    await idempotency('live', HOUR);
    // Resources write their events; two of them are aged past the retention.
    for (const id of ['net_a', 'net_b', 'net_c']) await resource(id);
    await db.query(
      `UPDATE stratus_events SET time = now() - $1::interval WHERE resource_id IN ('net_a', 'net_b')`,
      [ago(8 * DAY)],
    );
    // net_a has a newer operation than the old job's; net_b's old job is its newest; net_gone is gone.
    await job('old-superseded-op', {
      ledger: 'completed',
      finishedAgo: 8 * DAY,
      operation: { resource: 'net_a', generation: 1, state: 'succeeded' },
    });
    await job('recent-newest-of-a', {
      ledger: 'completed',
      finishedAgo: HOUR,
      operation: { resource: 'net_a', generation: 2, state: 'succeeded' },
    });
    await job('old-newest-of-b', {
      ledger: 'completed',
      finishedAgo: 8 * DAY,
      operation: { resource: 'net_b', generation: 1, state: 'succeeded' },
    });
    await job('old-of-gone', {
      ledger: 'completed',
      finishedAgo: 9 * DAY,
      operation: { resource: 'net_gone', generation: 3, state: 'superseded' },
    });
    await job('old-failed', { ledger: 'failed', finishedAgo: 8 * DAY });
    await job('old-not-done', { ledger: 'completed', finishedAgo: 8 * DAY, doneAgo: null });
    await job('old-done-recently', { ledger: 'completed', finishedAgo: 8 * DAY, doneAgo: HOUR });
    await job('old-op-pending', {
      ledger: 'completed',
      finishedAgo: 8 * DAY,
      operation: { resource: 'net_c', generation: 1, state: 'pending' },
    });
    await job('running', { ledger: 'running', doneAgo: null });
    // Key 1: two old ended terms and the open newest; key 2: its only term, old and ended.
    await journal(1, 1, 40 * DAY, 39 * DAY);
    await journal(1, 2, 39 * DAY, 35 * DAY);
    await journal(1, 3, 35 * DAY, null);
    await journal(2, 1, 40 * DAY, 39 * DAY);
    await journal(3, 1, 2 * DAY, DAY);
    await journal(3, 2, DAY, null);

    const before = await readHousekeepingState(db);
    const passes: Removed[] = [];
    const hk = housekeepingController({ leaderKey: key, retention, onPass: (r) => passes.push(r) });
    const now = Date.now();
    const result = await hk.pass(ctx(now));
    const after = await readHousekeepingState(db);

    expect(result).toEqual({ more: false });
    expect(housekeepingViolations(before, after, { nowMs: now, retention })).toEqual([]);
    expect(passes).toEqual([
      { idempotency: 1, events: 2, jobs: 3, ledger: 3, operations: 2, journal: 2, logs: 0 },
    ]);
    expect(after.idempotency.map((i) => i.key)).toEqual(['live']);
    expect(after.ledger.map((l) => l.jobKey).sort()).toEqual(
      [
        'old-done-recently',
        'old-failed',
        'old-not-done',
        'old-op-pending',
        'recent-newest-of-a',
        'running',
      ].sort(),
    );
    expect(after.operations.map((o) => o.jobKey).sort()).toEqual(
      ['old-newest-of-b', 'old-op-pending', 'recent-newest-of-a'].sort(),
    );
    // (Key 119's open term is the test's own.)
    expect(after.journal.map((j) => `${j.keyId}/${j.epoch}`).sort()).toEqual([
      '1/3',
      '119/1',
      '2/1',
      '3/1',
      '3/2',
    ]);
    // The pruned mark covers the removed events: a watch from before them is told to re-list.
    const mark = await db.query<{ up_to: string }>('SELECT up_to FROM stratus_events_pruned');
    const gone = before.events.filter((e) => !after.events.some((a) => a.id === e.id));
    expect(Number(mark.rows[0]!.up_to)).toBe(Math.max(...gone.map((e) => e.id)));

    // A second pass finds nothing more, and the audit agrees.
    await hk.pass(ctx(now));
    expect(passes[1]).toEqual({
      idempotency: 0,
      events: 0,
      jobs: 0,
      ledger: 0,
      operations: 0,
      journal: 0,
      logs: 0,
    });
    expect(counts(await readHousekeepingState(db))).toEqual(counts(after));

    // Known-bad passes fail the audit: one that removed a record still in force, a failed job's
    // ledger row and a resource's newest operation; and one that left a due event behind.
    const bad: HousekeepingState = {
      ...after,
      idempotency: [],
      ledger: after.ledger.filter((l) => l.jobKey !== 'old-failed'),
      operations: after.operations.filter((o) => o.jobKey !== 'old-newest-of-b'),
    };
    expect(housekeepingViolations(before, bad, { nowMs: now, retention })).toEqual([
      { type: 'pruned', table: 'idempotency', row: 't1/live' },
      { type: 'pruned', table: 'ledger', row: 'old-failed' },
      { type: 'pruned', table: 'operations', row: 'op_old-newest-of-b' },
    ]);
    const lazy: HousekeepingState = { ...after, events: before.events };
    const kept = housekeepingViolations(before, lazy, { nowMs: now, retention });
    expect(kept.map((v) => `${v.type} ${v.table}`)).toEqual(['kept events', 'kept events']);
    // A pass cut short by its batch may leave due rows.
    expect(housekeepingViolations(before, lazy, { nowMs: now, retention, complete: false })).toEqual([]);
  });

  it('walks a long outbox in batches to its end, then starts over from the oldest', async () => {
    await db.query('DELETE FROM stratus_operations; DELETE FROM stratus_ledger; DELETE FROM stratus_outbox');
    for (let i = 0; i < 7; i++) await job(`batch-${i}`, { ledger: 'completed', finishedAgo: 8 * DAY });
    await job('batch-recent', { ledger: 'completed', finishedAgo: HOUR });
    await job('batch-stuck', { ledger: 'completed', finishedAgo: 8 * DAY, doneAgo: null });
    const before = await readHousekeepingState(db);
    const removed: number[] = [];
    const hk = housekeepingController({
      leaderKey: key,
      retention,
      batch: 2,
      onPass: (r) => removed.push(r.jobs),
    });
    const now = Date.now();
    const results = [];
    for (let pass = 0; pass < 10; pass++) {
      const r = await hk.pass(ctx(now));
      results.push(r?.more);
      if (!r?.more) break;
    }
    // Windows of two: [0,1] [2,3] [4,5] [6,recent]; the recent row ends the walk.
    expect(removed).toEqual([2, 2, 2, 1]);
    expect(results).toEqual([true, true, true, false]);
    const after = await readHousekeepingState(db);
    expect(after.outbox.map((o) => o.jobKey)).toEqual(['batch-recent', 'batch-stuck']);
    expect(housekeepingViolations(before, after, { nowMs: now, retention })).toEqual([]);
    // The stuck job is done at last: the next walk starts from the oldest row and finds it.
    await db.query(`UPDATE stratus_outbox SET done_at = now() - $1::interval WHERE job_key = 'batch-stuck'`, [
      ago(8 * DAY),
    ]);
    await hk.pass(ctx(now));
    expect(removed.at(-1)).toBe(1);
    expect((await readHousekeepingState(db)).outbox.map((o) => o.jobKey)).toEqual(['batch-recent']);
  });

  it("drops instances' log lines older than the retention in the compute backend, fenced by the term", async () => {
    let simNow = Date.now() - 10 * DAY;
    const sim = createSimBackends({ wallClock: () => simNow });
    const a = await sim.compute.createInstance(
      { name: 'a', image: 'debian-12', size: 'small' },
      { clientToken: 'a' },
    );
    const b = await sim.compute.createInstance(
      { name: 'b', image: 'debian-12', size: 'small' },
      { clientToken: 'b' },
    );
    sim.compute.appendLog(a.id, 'old news');
    simNow += 9 * DAY;
    sim.compute.appendLog(a.id, 'fresh');
    sim.compute.appendLog(b.id, 'fresh too');
    const lines = async (id: string) => {
      const out: string[] = [];
      for await (const l of await sim.compute.streamLogs(id)) out.push(l.line);
      return out;
    };
    const removed: number[] = [];
    const hk = housekeepingController({
      leaderKey: key,
      retention: { ...retention, logsMs: 7 * DAY },
      compute: sim.compute,
      onPass: (r) => removed.push(r.logs),
    });
    await hk.pass(ctx(simNow));
    // Each instance's creation line and a's old one: three lines, the fresh ones kept.
    expect(removed).toEqual([3]);
    expect(await lines(a.id)).toEqual(['fresh']);
    expect(await lines(b.id)).toEqual(['fresh too']);
    // The call carried the term's epoch: an older one is refused by the backend.
    const stale = await sim.compute
      .pruneLogs(simNow, { clientToken: 'late', fencingToken: term.epoch - 1 })
      .catch((e) => e);
    expect(isStaleFencingTokenError(stale)).toBe(true);
    expect(await lines(a.id)).toEqual(['fresh']);
    // Another pass in the same minute of cutoff makes the same call again (its count replayed),
    // not one the backend refuses as its token reused with other parameters.
    const minuteStart = Math.floor((simNow - 7 * DAY) / 60_000) * 60_000 + 7 * DAY;
    await hk.pass(ctx(minuteStart + 1_000));
    await hk.pass(ctx(minuteStart + 59_000));
    expect(removed).toEqual([3, 3, 3]);
  });

  it('refuses to prune under a deposed term', async () => {
    const other = new MemoryElector('node-b', new MemoryLeadership(), db);
    try {
      const stale = await other.campaign(
        new LeaderKeyRegistry().register('housekeeping', 119),
        new AbortController().signal,
      );
      expect(stale.epoch).toBeGreaterThan(term.epoch);
      await idempotency('expired-2', -HOUR);
      const hk = housekeepingController({ leaderKey: key, retention });
      await expect(hk.pass(ctx(Date.now()))).rejects.toMatchObject({ name: 'StaleEpochError' });
      const left = (await readHousekeepingState(db)).idempotency.map((i) => i.key);
      expect(left).toContain('expired-2');
    } finally {
      await other.close();
    }
  });
});
