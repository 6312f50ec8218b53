import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type DriverName, drivers, openTestDatabase } from '../../../test/helpers/db.js';
import type { Database } from './database.js';
import { createPgDatabase } from './pg.js';

describe.each(drivers)('database on %s', (driver: DriverName) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    await db.exec('CREATE TABLE t (id int8 PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), note text)');
  });
  afterAll(() => dispose());

  it('returns int8 as a number and timestamptz as a Date', async () => {
    await db.query('INSERT INTO t (id, note) VALUES ($1, $2)', [9_007_199_254_740, 'x']);
    const res = await db.query<{ id: number; at: Date }>(
      'SELECT id, at FROM t WHERE id = $1',
      [9_007_199_254_740],
    );
    expect(res.rows[0]!.id).toBe(9_007_199_254_740);
    expect(res.rows[0]!.at).toBeInstanceOf(Date);
    expect(res.rowCount).toBe(1);
  });

  it('reports affected rows', async () => {
    await db.query('INSERT INTO t (id) VALUES (1), (2), (3)');
    const res = await db.query('UPDATE t SET note = $1 WHERE id IN (1, 2)', ['y']);
    expect(res.rowCount).toBe(2);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await db.transaction((tx) => tx.query('INSERT INTO t (id) VALUES (10)'));
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (11)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const res = await db.query<{ id: number }>('SELECT id FROM t WHERE id IN (10, 11) ORDER BY id');
    expect(res.rows.map((r) => r.id)).toEqual([10]);
  });

  it('delivers NOTIFY to a listener until it unsubscribes', async () => {
    const got: string[] = [];
    let wake: () => void = () => {};
    const first = new Promise<void>((r) => {
      wake = r;
    });
    const unlisten = await db.listen('stratus_test', (p) => {
      got.push(p);
      wake();
    });
    await db.query(`SELECT pg_notify('stratus_test', 'hello')`);
    await first;
    await unlisten();
    expect(got).toEqual(['hello']);
  });
});

describe('pg driver', () => {
  it('survives a connection that dies inside a transaction, and the pool goes on', async () => {
    const t = await createTestDatabase();
    const errors: string[] = [];
    const db = createPgDatabase({ connectionString: t.url, max: 2, onError: (e) => errors.push(e.message) });
    const admin = createPgDatabase({ connectionString: t.url, max: 1 });
    try {
      const outcome = await db
        .transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
          await expect.poll(() => errors.length).toBeGreaterThan(0);
          return tx.query('SELECT 1');
        })
        .then(
          () => 'committed',
          () => 'rejected',
        );
      expect(outcome).toBe('rejected');
      expect(errors.join(' ')).toMatch(/terminat/);
      expect((await db.query<{ x: number }>('SELECT 2 AS x')).rows).toEqual([{ x: 2 }]);
    } finally {
      await db.close();
      await admin.close();
      await t.drop();
    }
  });
});
