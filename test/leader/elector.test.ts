import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { isLeadershipLostError, isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { readJournal, readTerms } from '../../src/ha/leader/journal.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { PgElector } from '../../src/ha/leader/pg-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import type { ElectorSettings } from '../../src/ha/leader/settings.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../helpers/db.js';

/** Short timeouts so that outliving them takes little time. */
const fast = {
  heartbeatIntervalMs: 200,
  renewDeadlineMs: 600,
  idleSessionTimeoutMs: 1_000,
  tcpUserTimeoutMs: 1_000,
} satisfies Partial<ElectorSettings>;

const registry = new LeaderKeyRegistry();
const [k1, k2, k3] = [
  registry.register('alpha', 1),
  registry.register('beta', 2),
  registry.register('gamma', 3),
];

/** Resolves with the first non-empty result of `probe`, polling every 20 ms up to `ms`. */
async function waitFor<T>(probe: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lost(term: LeaderTerm): Promise<unknown> {
  return new Promise((resolve) => {
    if (term.signal.aborted) resolve(term.signal.reason);
    term.signal.addEventListener('abort', () => resolve(term.signal.reason), { once: true });
  });
}

describe('PostgreSQL elector', () => {
  let t: TestDatabase;
  let db: Database;
  const electors: PgElector[] = [];
  const stop = new AbortController();

  const elector = (nodeId: string, settings?: Partial<ElectorSettings>) => {
    const e = new PgElector({ connectionString: t.url, nodeId, settings });
    electors.push(e);
    return e;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 4 });
    await migrate(db, migrations);
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.close()));
  });
  afterAll(async () => {
    stop.abort();
    await db.close();
    await t.drop();
  });

  it('holds many keys on one named session, and releasing one leaves the others alone', async () => {
    const a = elector('node-a', fast);
    const b = elector('node-b', fast);
    const held = await Promise.all([k1, k2, k3].map((k) => a.campaign(k, stop.signal)));
    expect(held.map((term) => term.epoch)).toEqual([1, 1, 1]);

    // One holder session for all three keys, named after the node.
    const sessions = await db.query<{ application_name: string; locks: number }>(
      `SELECT a.application_name, count(*)::int AS locks FROM pg_locks l JOIN pg_stat_activity a USING (pid)
       WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() GROUP BY 1`,
    );
    expect(sessions.rows).toEqual([{ application_name: 'stratus-leader:node-a', locks: 3 }]);

    const bTerms = [k1, k2, k3].map((k) => b.campaign(k, stop.signal));
    await a.release(held[1]!, 'test-release');
    const bBeta = await bTerms[1]!;
    expect(bBeta.epoch).toBe(2);
    expect(held[1]!.signal.aborted).toBe(true);

    // Outliving the server's idle_session_timeout (1 s here) takes heartbeats that work: for
    // twice that long after the release, every poll finds a leading alpha and gamma, their two
    // locks on the same session.
    const before = a.holderPid!;
    const releasedAt = performance.now();
    await waitFor(
      async () => {
        expect([held[0]!.isCurrent(), held[2]!.isCurrent(), a.holderPid]).toEqual([true, true, before]);
        const locks = await db.query(
          `SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND granted`,
          [before],
        );
        expect(locks.rowCount).toBe(2);
        return performance.now() - releasedAt > 2 * fast.idleSessionTimeoutMs;
      },
      10_000,
      'twice the idle session timeout',
    );

    const journal = await readJournal(db, { keyId: k2.id });
    expect(journal.map((j) => [j.epoch, j.holder, j.reason])).toEqual([
      [1, 'node-a', 'test-release'],
      [2, 'node-b', null],
    ]);
    await a.close();
    const rest = await Promise.all([bTerms[0]!, bTerms[2]!]);
    expect(rest.map((term) => term.epoch)).toEqual([2, 2]);
  });

  it('fences writes: a bump waits for an in-flight fenced write, which is refused if its lock was lost meanwhile', async () => {
    const a = elector('node-a');
    const b = elector('node-b');
    const termA = await a.campaign(k1, stop.signal);
    await db.exec('CREATE TABLE IF NOT EXISTS fenced (epoch int8, at timestamptz DEFAULT clock_timestamp())');

    // An in-flight write of a's term holds the key's fence shared.
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => {
      finish = r;
    });
    let locked: () => void = () => {};
    const hasLock = new Promise<void>((r) => {
      locked = r;
    });
    const write = fencedTransaction(db, termA, async (tx) => {
      locked();
      await gate;
      await tx.query('INSERT INTO fenced (epoch) VALUES ($1)', [termA.epoch]);
    });
    await hasLock;
    const bCampaign = b.campaign(k1, stop.signal);
    let bDone = false;
    void bCampaign.then(() => {
      bDone = true;
    });

    // a's session dies; b is granted the lock and its epoch bump waits for the write, which
    // then finds the lock of its term gone and commits nothing.
    const pid = a.holderPid!;
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    const reason = await lost(termA);
    expect(isLeadershipLostError(reason) && reason.reason).toBe('session-lost');
    await waitFor(
      async () =>
        (
          await db.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = 'stratus-candidate:node-b:alpha'
             AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
          )
        ).rowCount > 0,
      10_000,
      'the bump to wait for the fenced write',
    );
    expect(bDone).toBe(false);
    finish();
    await expect(write).rejects.toMatchObject({ code: 'STALE_EPOCH', reason: 'lock-lost' });
    const termB = await bCampaign;
    expect(termB.epoch).toBe(termA.epoch + 1);

    // The old term's writes are refused from now on, and nothing of them is written.
    const stale = fencedTransaction(db, termA, (tx) => tx.query('INSERT INTO fenced (epoch) VALUES (-1)'));
    await expect(stale).rejects.toMatchObject({ code: 'STALE_EPOCH', reason: 'superseded' });
    await fencedTransaction(db, termB, (tx) =>
      tx.query('INSERT INTO fenced (epoch) VALUES ($1)', [termB.epoch]),
    );
    const rows = await db.query<{ epoch: number }>('SELECT epoch FROM fenced ORDER BY at');
    expect(rows.rows.map((r) => r.epoch)).toEqual([termB.epoch]);
    const [journalA, journalB] = await readJournal(db, { keyId: k1.id, since: termA.acquiredAt });
    expect(journalA!.reason).toBe('superseded');
    expect(journalA!.endedAt!.getTime()).toBe(termB.acquiredAt.getTime());
    expect(journalB!.endedAt).toBeNull();
    const terms = await readTerms(db);
    expect(terms.find((r) => r.keyId === k1.id)).toMatchObject({ epoch: termB.epoch, holder: 'node-b' });
  });

  it('aborts a waiting campaign promptly and leaves no session behind', async () => {
    const a = elector('node-a');
    const b = elector('node-b');
    await a.campaign(k3, stop.signal);
    const abort = new AbortController();
    const waiting = b.campaign(k3, abort.signal);
    await waitFor(
      async () =>
        (
          await db.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = 'stratus-candidate:node-b:gamma'`,
          )
        ).rowCount > 0,
      5_000,
      'the candidate session',
    );
    abort.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'stratus-candidate:%'`))
          .rowCount === 0,
      5_000,
      'the candidate session to end',
    );
  });
});

describe('in-process elector on the embedded database', () => {
  // Booting PGlite and migrating it alone takes 5-13 s on a loaded 2-core machine.
  it('begins terms in the database, so fenced writes work on PGlite and epochs survive restarts', {
    timeout: 60_000,
  }, async () => {
    const { db, dispose } = await openTestDatabase('pglite');
    try {
      await migrate(db, migrations);
      await db.exec('CREATE TABLE fenced (epoch int8)');
      const stop = new AbortController();
      const first = new MemoryElector('embedded', new MemoryLeadership(), db);
      const t1 = await first.campaign(k1, stop.signal);
      await first.close();
      // A restart: a fresh in-memory space, the same database.
      const second = new MemoryElector('embedded', new MemoryLeadership(), db);
      const t2 = await second.campaign(k1, stop.signal);
      expect(t2.epoch).toBe(t1.epoch + 1);
      await fencedTransaction(db, t2, (tx) => tx.query('INSERT INTO fenced VALUES ($1)', [t2.epoch]));
      await expect(
        fencedTransaction(db, t1, (tx) => tx.query('INSERT INTO fenced VALUES (-1)')),
      ).rejects.toSatisfy(isStaleEpochError);
      const rows = await db.query<{ epoch: number }>('SELECT epoch FROM fenced');
      expect(rows.rows).toEqual([{ epoch: t2.epoch }]);
      await second.release(t2, 'test-release');
      // The leaders close their own terms in the journal, with their reasons.
      const journal = await readJournal(db, { keyId: k1.id });
      expect(journal.map((j) => [j.epoch, j.reason, j.endedAt !== null])).toEqual([
        [t1.epoch, 'closed', true],
        [t2.epoch, 'test-release', true],
      ]);
      await second.close();
    } finally {
      await dispose();
    }
  });
});
