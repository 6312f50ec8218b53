// What a pass over unchanged resources costs: 10,000 live resources all recorded up to the
// current minute, then passes with nothing due. Prints the figures; the bound is loose (a shared
// machine), the point is that the pass reads the due index, not every lifetime.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountingController } from '../../src/controllers/accounting/controller.js';
import type { PassContext } from '../../src/controllers/framework/define.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const M = 60_000;
const RESOURCES = 10_000;
const key = new LeaderKeyRegistry().register('accounting', 110);

describe('an accounting pass over unchanged resources', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 3 });
    await migrate(db, migrations);
  });
  afterAll(async () => {
    await db.close();
    await t.drop();
  });

  it('is an index read: no lifetime due, nothing written', { timeout: 60_000 }, async () => {
    const res = await db.query<{ ms: number }>(
      'SELECT (extract(epoch FROM now()) * 1000)::double precision AS ms',
    );
    const T = Math.floor(Number(res.rows[0]!.ms) / M) * M;
    await db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version, created_at)
       SELECT 'inst_' || i, 't' || (i % 20), 'instances', 'i' || i, '{"size":"small"}'::jsonb, '{}'::jsonb, 1,
              nextval('stratus_resource_version_seq'), to_timestamp($1 / 1000.0)
       FROM generate_series(1, $2) AS i`,
      [T - 2 * M, RESOURCES],
    );
    await db.query('ANALYZE stratus_usage_lifetimes');
    const elector = new MemoryElector('node-a', new MemoryLeadership(), db);
    const term = await elector.campaign(key, new AbortController().signal);
    const ctx: PassContext = {
      signal: term.signal,
      term,
      epoch: term.epoch,
      now: () => T + 1,
      db,
      fenced: (fn) => fencedTransaction(db, term, fn),
    };
    const controller = accountingController({
      leaderKey: key,
      minuteMs: M,
      clock: () => T + 1,
      batchLifetimes: 1_000,
    });
    const catchUp = performance.now();
    let batches = 0;
    for (let more = true; more; batches++) more = (await controller.pass(ctx))!.more === true;
    const catchUpMs = performance.now() - catchUp;
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      expect(await controller.pass(ctx)).toEqual({ more: false, lagMs: 0 });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stratus_usage');
    expect(rows.rows[0]!.n).toBe(2 * RESOURCES);
    console.info(
      `accounting pass cost: ${RESOURCES} resources; catch-up of ${2 * RESOURCES} minutes in ${batches} batches ${catchUpMs.toFixed(0)} ms; ` +
        `unchanged pass median ${median.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms (30 passes)`,
    );
    expect(median).toBeLessThan(100);
    await elector.close();
  });
});
