// The accounting pass against a real database, with an injected clock and in-process leadership:
// minutes backfilled from the watermark after a leader change, a deposed leader's write refused
// by the fence, a double made visible (not swallowed by the primary key), deleted lifetimes
// closed. On both drivers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountingViolations } from '../../src/controllers/accounting/audit.js';
import { accountingController } from '../../src/controllers/accounting/controller.js';
import { minutePrices } from '../../src/controllers/accounting/prices.js';
import { readAccounting } from '../../src/controllers/accounting/read-audit.js';
import { recordMinutes } from '../../src/controllers/accounting/record.js';
import type { PassContext } from '../../src/controllers/framework/define.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { migrations } from '../../src/migrations/index.js';
import { drivers, openTestDatabase } from '../helpers/db.js';

const M = 60_000;
const key = new LeaderKeyRegistry().register('accounting', 110);

async function addResource(db: Database, id: string, kind: string, createdAt: number, size?: string) {
  await db.query(
    `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version, created_at)
     VALUES ($1, 't1', $2, $1, $3::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'), $4)`,
    [id, kind, JSON.stringify(size ? { size } : {}), new Date(createdAt)],
  );
}

describe.each(drivers)('accounting on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let space: MemoryLeadership;
  let elector: MemoryElector;
  /** An aligned minute half an hour ago by the database's clock. */
  let T: number;
  let now: number;
  const controller = accountingController({ leaderKey: key, minuteMs: M, clock: () => now });

  const ctxOf = (term: LeaderTerm): PassContext => ({
    signal: term.signal,
    term,
    epoch: term.epoch,
    now: () => now,
    db,
    fenced: (fn) => fencedTransaction(db, term, fn),
  });
  const audit = async (until: number) => {
    const { rows, lifetimes } = await readAccounting(db);
    return accountingViolations(rows, lifetimes, { minuteMs: M, until });
  };

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    await migrate(db, migrations);
    space = new MemoryLeadership();
    elector = new MemoryElector('node-a', space, db);
    const res = await db.query<{ ms: number }>(
      'SELECT (extract(epoch FROM now()) * 1000)::double precision AS ms',
    );
    T = Math.floor(Number(res.rows[0]!.ms) / M) * M - 30 * M;
  });
  afterAll(async () => {
    await elector.close();
    await dispose();
  });

  it('records every ended minute once, backfills after a leader change, and a deposed write is refused', async () => {
    await addResource(db, 'inst_1', 'instances', T + 10_000, 'medium');
    await addResource(db, 'net_1', 'networks', T + 2 * M + 59_000);
    const t1 = await elector.campaign(key, new AbortController().signal);
    now = T + 5 * M + 1;
    expect(await controller.pass(ctxOf(t1))).toEqual({ more: false, lagMs: 0 });
    expect(await audit(now)).toMatchObject({ gaps: [], doubles: [], outside: [], owed: 5 + 3 });

    // The leader goes away for seven minutes; its successor backfills from the watermark.
    space.revoke(key.id);
    const t2 = await elector.campaign(key, new AbortController().signal);
    expect(t2.epoch).toBeGreaterThan(t1.epoch);
    now = T + 12 * M + 30_000;
    await controller.pass(ctxOf(t2));
    // The deposed leader, a zombie that woke up late, writes with its old term: refused.
    const zombie = controller.pass(ctxOf(t1));
    await expect(zombie).rejects.toSatisfy(isStaleEpochError);
    const report = await audit(now);
    expect(report).toMatchObject({ gaps: [], doubles: [], outside: [], owed: 12 + 10 });
    const epochs = await db.query<{ epoch: number; n: number }>(
      'SELECT epoch, count(*)::int AS n FROM stratus_usage GROUP BY epoch ORDER BY epoch',
    );
    expect(epochs.rows.map((r) => [Number(r.epoch), r.n])).toEqual([
      [t1.epoch, 8],
      [t2.epoch, 14],
    ]);
    // Priced from the catalogue: a medium instance's minute is its hourly price / 60.
    const price = await db.query<{ price: string }>(
      "SELECT DISTINCT price::text AS price FROM stratus_usage WHERE resource_id = 'inst_1'",
    );
    expect(Number(price.rows[0]!.price)).toBeCloseTo(0.0208 / 60, 10);
    const net = await db.query<{ price: string }>(
      "SELECT DISTINCT price::text AS price FROM stratus_usage WHERE kind = 'networks'",
    );
    expect(net.rows.map((r) => Number(r.price))).toEqual([0]);
    space.revoke(key.id);
  });

  it('a deposed write in flight when the successor is elected commits first, and the successor writes no minute twice', async () => {
    const t3 = await elector.campaign(key, new AbortController().signal);
    now = T + 14 * M + 1;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let inside!: () => void;
    const entered = new Promise<void>((r) => {
      inside = r;
    });
    const inFlight = fencedTransaction(
      db,
      t3,
      async (tx) => {
        inside();
        await gate;
        return recordMinutes(tx, {
          at: now,
          minuteMs: M,
          epoch: t3.epoch,
          prices: minutePrices(),
          lifetimes: 200,
          minutes: 60,
        });
      },
      { fencedIdleTimeoutMs: 30_000, fencedDeadlineMs: 30_000 },
    );
    await entered;
    space.revoke(key.id);
    const successor = elector.campaign(key, new AbortController().signal);
    release();
    expect((await inFlight).inserted).toBe(4);
    const t4 = await successor;
    await controller.pass(ctxOf(t4));
    expect(await audit(now)).toMatchObject({ gaps: [], doubles: [], outside: [], owed: 14 + 12 });
    space.revoke(key.id);
  });

  it('a minute written twice is counted, not swallowed: the audit sees the double', async () => {
    const t = await elector.campaign(key, new AbortController().signal);
    // A broken watermark (set back by hand) makes the next pass write minutes that exist.
    await db.query(
      "UPDATE stratus_usage_lifetimes SET next_minute = to_timestamp($1 / 1000.0) WHERE resource_id = 'inst_1'",
      [T + 12 * M],
    );
    const r = await fencedTransaction(db, t, (tx) =>
      recordMinutes(tx, {
        at: now,
        minuteMs: M,
        epoch: t.epoch,
        prices: minutePrices(),
        lifetimes: 200,
        minutes: 60,
      }),
    );
    expect(r.rewritten).toBe(2);
    const report = await audit(now);
    expect(report.doubles.map((d) => [d.resourceId, (d.minute - T) / M])).toEqual([
      ['inst_1', 12],
      ['inst_1', 13],
    ]);
    const billed = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM stratus_usage WHERE resource_id = 'inst_1'",
    );
    expect(billed.rows[0]!.n).toBe(14);
    await db.query("UPDATE stratus_usage SET writes = 1 WHERE resource_id = 'inst_1'");
    space.revoke(key.id);
  });

  it('keeps the size a resize writes, and ignores status writes', async () => {
    await addResource(db, 'inst_r', 'instances', T + 30 * M, 'small');
    await db.query(`UPDATE stratus_resources SET spec = '{"size":"xlarge"}'::jsonb WHERE id = 'inst_r'`);
    await db.query(`UPDATE stratus_resources SET status = '{"phase":"Ready"}'::jsonb WHERE id = 'inst_r'`);
    const res = await db.query<{ size: string }>(
      "SELECT size FROM stratus_usage_lifetimes WHERE resource_id = 'inst_r'",
    );
    expect(res.rows[0]!.size).toBe('xlarge');
  });

  it('closes a deleted resource at its last minute, and batches a long backfill', async () => {
    const t = await elector.campaign(key, new AbortController().signal);
    await addResource(db, 'vol_1', 'volumes', T + 20 * M + 5);
    await db.query("DELETE FROM stratus_resources WHERE id = 'vol_1'");
    const small = accountingController({
      leaderKey: key,
      minuteMs: M,
      clock: () => now,
      batchLifetimes: 2,
      batchMinutes: 3,
    });
    now = T + 40 * M;
    let passes = 0;
    for (let more = true; more; passes++) more = (await small.pass(ctxOf(t)))!.more === true;
    expect(passes).toBeGreaterThan(3);
    const { rows, lifetimes } = await readAccounting(db);
    const vol = lifetimes.find((l) => l.resourceId === 'vol_1')!;
    expect(vol.deletedAt).toBeDefined();
    const report = accountingViolations(rows, lifetimes, { minuteMs: M, until: now });
    expect(report).toMatchObject({ gaps: [], doubles: [], outside: [] });
    expect(rows.filter((r) => r.resourceId === 'vol_1').length).toBe(
      Math.ceil(vol.deletedAt! / M) - (T + 20 * M) / M,
    );
    const done = await db.query<{ done: boolean }>(
      "SELECT done FROM stratus_usage_lifetimes WHERE resource_id = 'vol_1'",
    );
    expect(done.rows[0]!.done).toBe(true);
    // Nothing due: the pass writes nothing.
    expect(await small.pass(ctxOf(t))).toEqual({ more: false, lagMs: 0 });
    space.revoke(key.id);
  });
});
