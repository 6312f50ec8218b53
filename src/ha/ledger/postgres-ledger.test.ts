import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type DriverName, drivers } from '../../../test/helpers/db.js';
import { migratedDatabase } from '../../../test/worker/databases.js';
import { migrations } from '../../migrations/index.js';
import type { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createPgDatabase } from '../db/pg.js';
import { isStaleLeaseError } from './errors.js';
import type { ExecutionLedger } from './port.js';
import { createPostgresLedger } from './postgres-ledger.js';

/** Moves a job's lease or retry time into the past: the test's stand-in for time passing. */
async function expire(db: Database, jobKey: string): Promise<void> {
  await db.query(
    `UPDATE stratus_ledger SET
       lease_expires_at = CASE WHEN state = 'running' THEN now() - interval '1 second' END,
       retry_at = CASE WHEN state = 'pending' THEN now() - interval '1 second' END
     WHERE job_key = $1`,
    [jobKey],
  );
}

describe.each(drivers)('postgres ledger on %s', (driver: DriverName) => {
  const t = migratedDatabase(driver);
  let ledger: ExecutionLedger;
  beforeAll(() => {
    ledger = createPostgresLedger(t.db);
  });

  it.runIf(driver === 'pg')(
    'grants exactly one lease to 20 acquirers on 20 connections released together',
    async () => {
      // Twenty database handles of one connection each, all in ONE race: a session
      // holds a SHARE lock on the ledger table, which every acquisition (ROW EXCLUSIVE) waits
      // for; once all twenty wait in PostgreSQL, the lock is released and they run at once.
      const pgt = await createTestDatabase();
      const admin = createPgDatabase({ connectionString: pgt.url, max: 1 });
      const racers = Array.from({ length: 20 }, () =>
        createPgDatabase({ connectionString: pgt.url, max: 1 }),
      );
      try {
        await migrate(admin, migrations);
        await Promise.all(racers.map((r) => r.query('SELECT 1'))); // every connection open
        const results = await admin.transaction(async (barrier) => {
          await barrier.query('LOCK TABLE stratus_ledger IN SHARE MODE');
          const racing = racers.map((r, i) =>
            createPostgresLedger(r).tryAcquire('race-1', `owner-${i}`, 10_000),
          );
          const deadline = Date.now() + 20_000;
          for (;;) {
            const waiting = await barrier.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_locks
               WHERE relation = 'stratus_ledger'::regclass AND NOT granted AND pid <> pg_backend_pid()`,
            );
            if (waiting.rows[0]!.n === 20) break;
            if (Date.now() > deadline) throw new Error(`only ${waiting.rows[0]!.n} of 20 acquirers waiting`);
            await new Promise((r) => setTimeout(r, 10));
          }
          return racing; // COMMIT releases the lock: all twenty go
        });
        const settled = await Promise.all(results);
        expect(settled.filter((r) => r.acquired)).toHaveLength(1);
        const winner = `owner-${settled.findIndex((r) => r.acquired)}`;
        const refused = settled.filter((r) => !r.acquired);
        expect(refused).toHaveLength(19);
        for (const r of refused) expect(r).toMatchObject({ refusal: { kind: 'running', owner: winner } });
      } finally {
        await Promise.all([admin, ...racers].map((d) => d.close()));
        await pgt.drop();
      }
    },
  );

  it('hands an expired lease over with a larger token and refuses the old owner', async () => {
    const first = await ledger.tryAcquire('takeover-1', 'a', 60_000);
    if (!first.acquired) throw new Error('first acquire refused');
    const blocked = await ledger.tryAcquire('takeover-1', 'b', 60_000);
    expect(blocked.acquired).toBe(false);
    if (!blocked.acquired && blocked.refusal.kind === 'running') {
      expect(blocked.refusal.owner).toBe('a');
      expect(blocked.refusal.remainingMs).toBeGreaterThan(50_000);
    } else throw new Error(`unexpected refusal ${JSON.stringify(blocked)}`);

    await expire(t.db, 'takeover-1');
    const second = await ledger.tryAcquire('takeover-1', 'b', 60_000);
    if (!second.acquired) throw new Error('takeover refused');
    expect(second.lease.token).toBeGreaterThan(first.lease.token);
    expect(second.lease.attempt).toBe(2);

    const err = await ledger.complete('takeover-1', first.lease.token).catch((e: unknown) => e);
    expect(isStaleLeaseError(err)).toBe(true);
    expect(
      await ledger.heartbeat([{ jobKey: 'takeover-1', token: first.lease.token, leaseMs: 5000 }]),
    ).toEqual(['takeover-1']);
    await ledger.complete('takeover-1', second.lease.token);
    expect((await ledger.get('takeover-1'))?.state).toBe('completed');
    const again = await ledger.tryAcquire('takeover-1', 'c', 60_000);
    expect(again).toMatchObject({ acquired: false, refusal: { kind: 'completed' } });
  });

  it('takes over a lease that really expired on the database clock', async () => {
    const first = await ledger.tryAcquire('expiry-1', 'a', 100);
    expect(first.acquired).toBe(true);
    const deadline = Date.now() + 10_000;
    let taken = false;
    while (!taken && Date.now() < deadline) {
      const r = await ledger.tryAcquire('expiry-1', 'b', 60_000);
      taken = r.acquired;
      if (!r.acquired && r.refusal.kind === 'running') {
        const { remainingMs } = r.refusal;
        expect(remainingMs).toBeLessThanOrEqual(100);
        // Polls at the pace of the lease itself, bounded by the deadline above.
        await new Promise((resolve) => setTimeout(resolve, Math.max(5, remainingMs)));
      }
    }
    expect(taken).toBe(true);
  });

  it('extends live leases in one batch and reports the lost ones', async () => {
    const a = await ledger.tryAcquire('hb-a', 'w', 60_000);
    const b = await ledger.tryAcquire('hb-b', 'w', 60_000);
    if (!a.acquired || !b.acquired) throw new Error('acquire refused');
    await expire(t.db, 'hb-b');
    const lost = await ledger.heartbeat([
      { jobKey: 'hb-a', token: a.lease.token, leaseMs: 120_000 },
      { jobKey: 'hb-b', token: b.lease.token, leaseMs: 120_000 },
    ]);
    expect(lost).toEqual(['hb-b']);
    const entry = await ledger.get('hb-a');
    expect(entry!.leaseExpiresAt!.getTime()).toBeGreaterThan(a.lease.leaseExpiresAt.getTime());
  });

  it('acquires and completes batches, each row under its own lease', async () => {
    await ledger.tryAcquire('batch-held', 'other', 60_000);
    const results = await ledger.tryAcquireBatch(
      [
        { jobKey: 'batch-1', leaseMs: 60_000 },
        { jobKey: 'batch-held', leaseMs: 60_000 },
        { jobKey: 'batch-2', leaseMs: 60_000 },
      ],
      'me',
    );
    expect(results.map((r) => r.acquired)).toEqual([true, false, true]);
    const leases = results.flatMap((r) => (r.acquired ? [r.lease] : []));
    const refused = await ledger.completeBatch([...leases, { jobKey: 'batch-held', token: 1 }]);
    expect(refused).toEqual(['batch-held']);
    expect((await ledger.get('batch-1'))?.state).toBe('completed');
    await expect(
      ledger.tryAcquireBatch(
        [
          { jobKey: 'dup', leaseMs: 1 },
          { jobKey: 'dup', leaseMs: 1 },
        ],
        'me',
      ),
    ).rejects.toThrow(/distinct/);
  });

  it('completes one batch and leases another in one exchange', async () => {
    const a = await ledger.tryAcquire('ex-a', 'w', 60_000);
    if (!a.acquired) throw new Error('refused');
    const stale = { jobKey: 'ex-stale', token: 1 };
    const r = await ledger.exchange(
      [{ jobKey: 'ex-a', token: a.lease.token }, stale],
      [
        { jobKey: 'ex-b', leaseMs: 60_000 },
        { jobKey: 'ex-a2', leaseMs: 60_000 },
      ],
      'w',
    );
    expect(r.refusedCompletions).toEqual(['ex-stale']);
    expect(r.acquired.map((x) => x.acquired)).toEqual([true, true]);
    expect((await ledger.get('ex-a'))?.state).toBe('completed');
    await expect(
      ledger.exchange([{ jobKey: 'ex-b', token: 1 }], [{ jobKey: 'ex-b', leaseMs: 1 }], 'w'),
    ).rejects.toThrow(/cannot be completed and acquired/);
  });

  it('takes back unused leases without counting the attempt', async () => {
    const r = await ledger.tryAcquire('unused-1', 'w', 60_000);
    if (!r.acquired) throw new Error('refused');
    expect(await ledger.release([{ jobKey: 'unused-1', token: r.lease.token }])).toEqual([]);
    expect(await ledger.release([{ jobKey: 'unused-1', token: r.lease.token }])).toEqual(['unused-1']);
    const again = await ledger.tryAcquire('unused-1', 'v', 60_000);
    if (!again.acquired) throw new Error('not due at once');
    expect(again.lease.attempt).toBe(1);
    expect(again.lease.token).toBeGreaterThan(r.lease.token);
  });

  it('gives back a lost lease uncounted while nobody took it over, and refuses one taken over', async () => {
    const first = await ledger.tryAcquire('lost-1', 'slow', 60_000);
    if (!first.acquired) throw new Error('refused');
    await expire(t.db, 'lost-1');
    // The heartbeat no longer renews it, but it is still this holder's: given back uncounted.
    expect(await ledger.heartbeat([{ jobKey: 'lost-1', token: first.lease.token, leaseMs: 5000 }])).toEqual([
      'lost-1',
    ]);
    expect(await ledger.returnLost([{ jobKey: 'lost-1', token: first.lease.token }])).toEqual([]);
    expect(await ledger.get('lost-1')).toMatchObject({ state: 'pending', attempt: 0, leaseExpiresAt: null });
    const second = await ledger.tryAcquire('lost-1', 'other', 60_000);
    if (!second.acquired) throw new Error('not due at once');
    expect(second.lease.attempt).toBe(1);

    // Taken over by another worker first: the old holder's give-back changes nothing, the
    // takeover's attempt stands.
    await expire(t.db, 'lost-1');
    const third = await ledger.tryAcquire('lost-1', 'third', 60_000);
    if (!third.acquired) throw new Error('takeover refused');
    expect(third.lease.attempt).toBe(2);
    expect(await ledger.returnLost([{ jobKey: 'lost-1', token: second.lease.token }])).toEqual(['lost-1']);
    expect(await ledger.get('lost-1')).toMatchObject({ state: 'running', attempt: 2, owner: 'third' });
    // Nor after it finished.
    await ledger.complete('lost-1', third.lease.token);
    expect(await ledger.returnLost([{ jobKey: 'lost-1', token: third.lease.token }])).toEqual(['lost-1']);
    expect((await ledger.get('lost-1'))?.state).toBe('completed');
  });

  it('schedules a retryable failure and fails a terminal one for good', async () => {
    const first = await ledger.tryAcquire('fail-1', 'w', 60_000);
    if (!first.acquired) throw new Error('refused');
    await ledger.fail('fail-1', first.lease.token, { retryable: true, retryInMs: 60_000, error: 'boom' });
    const early = await ledger.tryAcquire('fail-1', 'w', 60_000);
    expect(early).toMatchObject({ acquired: false, refusal: { kind: 'scheduled' } });
    await expire(t.db, 'fail-1');
    const second = await ledger.tryAcquire('fail-1', 'w', 60_000);
    if (!second.acquired) throw new Error('retry refused');
    expect(second.lease.attempt).toBe(2);
    const stale = await ledger
      .fail('fail-1', first.lease.token, { retryable: false, error: 'late' })
      .catch((e: unknown) => e);
    expect(isStaleLeaseError(stale)).toBe(true);
    await ledger.fail('fail-1', second.lease.token, { retryable: false, error: 'for good' });
    expect(await ledger.tryAcquire('fail-1', 'w', 60_000)).toMatchObject({
      acquired: false,
      refusal: { kind: 'failed', error: 'for good' },
    });
  });

  it('behaves like its model under any sequence of transitions', async () => {
    type Op =
      | { op: 'acquire'; key: number }
      | { op: 'complete'; key: number; stale: boolean }
      | { op: 'fail'; key: number; stale: boolean; retryable: boolean; later: boolean }
      | { op: 'expire'; key: number };
    const key = fc.integer({ min: 0, max: 2 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('acquire' as const), key }),
      fc.record({ op: fc.constant('complete' as const), key, stale: fc.boolean() }),
      fc.record({
        op: fc.constant('fail' as const),
        key,
        stale: fc.boolean(),
        retryable: fc.boolean(),
        later: fc.boolean(),
      }),
      fc.record({ op: fc.constant('expire' as const), key }),
    );
    type Model = { state: 'running' | 'pending' | 'completed' | 'failed'; live: boolean; attempt: number };
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        run++;
        const model = new Map<number, Model>();
        const tokens = new Map<number, number[]>();
        const name = (k: number) => `model-${run}-${k}`;
        for (const o of ops) {
          const m = model.get(o.key);
          const held = tokens.get(o.key) ?? [];
          if (o.op === 'acquire') {
            const r = await ledger.tryAcquire(name(o.key), 'w', 60_000);
            const grantable = !m || (!m.live && (m.state === 'running' || m.state === 'pending'));
            expect(r.acquired).toBe(grantable);
            if (r.acquired) {
              expect(r.lease.token).toBeGreaterThan(Math.max(0, ...held));
              expect(r.lease.attempt).toBe((m?.attempt ?? 0) + 1);
              tokens.set(o.key, [...held, r.lease.token]);
              model.set(o.key, { state: 'running', live: true, attempt: r.lease.attempt });
            } else {
              const expected = {
                running: 'running',
                pending: 'scheduled',
                completed: 'completed',
                failed: 'failed',
              };
              expect(r.refusal.kind).toBe(expected[m!.state]);
            }
          } else if (o.op === 'expire') {
            await expire(t.db, name(o.key));
            if (m && (m.state === 'running' || m.state === 'pending')) m.live = false;
          } else {
            const current = held.at(-1);
            const token = o.stale ? (held.at(-2) ?? 0) : (current ?? 0);
            const allowed = m?.state === 'running' && m.live && token === current && current !== undefined;
            const attempt =
              o.op === 'complete'
                ? ledger.complete(name(o.key), token)
                : ledger.fail(name(o.key), token, {
                    retryable: o.retryable,
                    retryInMs: o.later ? 3_600_000 : 0,
                    error: 'e',
                  });
            const err = await attempt.then(
              () => undefined,
              (e: unknown) => e,
            );
            if (allowed) {
              expect(err).toBeUndefined();
              if (o.op === 'complete') model.set(o.key, { ...m, state: 'completed', live: false });
              else if (o.retryable) model.set(o.key, { ...m, state: 'pending', live: o.later });
              else model.set(o.key, { ...m, state: 'failed', live: false });
            } else {
              expect(isStaleLeaseError(err)).toBe(true);
            }
          }
        }
      }),
      { numRuns: driver === 'pg' ? 25 : 40 },
    );
  });
});
