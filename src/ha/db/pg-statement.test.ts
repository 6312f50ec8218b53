import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import type { Database } from './database.js';
import { createPgDatabase, statement } from './pg.js';

describe('statement', () => {
  it('names a parameterized text once, the same name every time; a bare text stays unnamed', () => {
    const a = statement('SELECT $1::int AS one', [1]);
    expect(a.name).toMatch(/^stratus_\d+$/);
    expect(statement('SELECT $1::int AS one', [2])).toEqual({ name: a.name, text: a.text, values: [2] });
    expect(statement('SELECT $1::int + 1 AS two', [1]).name).not.toBe(a.name);
    expect(statement('SELECT 1')).toEqual({ text: 'SELECT 1' });
  });
});

describe('prepared statements on PostgreSQL', () => {
  let tdb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createPgDatabase({ connectionString: tdb.url, max: 2 });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('prepares a text once per connection and runs it again with other values', async () => {
    const sql = 'SELECT $1::int * 2 AS doubled';
    for (let i = 0; i < 5; i++) expect((await db.query(sql, [i])).rows[0]).toEqual({ doubled: i * 2 });
    // One connection: the text runs three times, and the session holds it prepared once, by name.
    const held = await db.transaction(async (tx) => {
      for (const v of [1, 2, 3]) expect((await tx.query(sql, [v])).rows[0]).toEqual({ doubled: v * 2 });
      return (
        await tx.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [
          sql,
        ])
      ).rows;
    });
    expect(held).toEqual([{ name: statement(sql, []).name }]);
  });
});
