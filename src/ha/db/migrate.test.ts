import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type DriverName, drivers, openTestDatabase } from '../../../test/helpers/db.js';
import type { Database } from './database.js';
import { type Migration, migrate, pendingMigrations } from './migrate.js';
import { createPgDatabase } from './pg.js';

const first: Migration = { version: 1, name: 'widgets', sql: 'CREATE TABLE widgets (id int PRIMARY KEY);' };
const second: Migration = {
  version: 2,
  name: 'gadgets',
  sql: 'CREATE TABLE gadgets (id int PRIMARY KEY); INSERT INTO gadgets VALUES (1), (2);',
};
const broken: Migration = {
  version: 3,
  name: 'broken',
  sql: 'CREATE TABLE ok3 (id int); SELECT * FROM nowhere;',
};

describe.each(drivers)('migrate on %s', (driver: DriverName) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
  });
  afterAll(() => dispose());

  it('applies pending migrations in order, then nothing', async () => {
    expect(await pendingMigrations(db, [first, second])).toEqual([1, 2]);
    expect(await migrate(db, [first])).toEqual([1]);
    expect(await migrate(db, [first, second])).toEqual([2]);
    expect(await migrate(db, [first, second])).toEqual([]);
    expect(await pendingMigrations(db, [first, second])).toEqual([]);
    const gadgets = await db.query('SELECT id FROM gadgets');
    expect(gadgets.rowCount).toBe(2);
  });

  it('rolls back every migration of a run when one fails, naming it', async () => {
    const third: Migration = { version: 4, name: 'fine', sql: 'CREATE TABLE fine4 (id int);' };
    await expect(migrate(db, [first, second, third, { ...broken, version: 5 }])).rejects.toThrow(
      /migration 5_broken failed: .*nowhere/,
    );
    expect(await pendingMigrations(db, [first, second, third])).toEqual([4]);
    const fine = await db.query(`SELECT to_regclass('fine4') IS NULL AS gone`);
    expect(fine.rows[0]).toEqual({ gone: true });
  });
});

describe('migrate from many replicas at once', () => {
  it('applies each migration exactly once when three pools race on a fresh database', async () => {
    const t = await createTestDatabase();
    const pools = [0, 1, 2].map(() => createPgDatabase({ connectionString: t.url, max: 2 }));
    try {
      const counting: Migration = {
        version: 1,
        name: 'counted',
        sql: 'CREATE TABLE runs (n int); INSERT INTO runs VALUES (1);',
      };
      const results = await Promise.all(pools.map((p) => migrate(p, [counting, second])));
      expect(results.flat().sort()).toEqual([1, 2]);
      const runs = await pools[0]!.query('SELECT count(*)::int AS n FROM runs');
      expect(runs.rows[0]).toEqual({ n: 1 });
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await t.drop();
    }
  });
});
