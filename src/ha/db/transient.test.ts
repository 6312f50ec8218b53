import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import type { Database } from './database.js';
import { createPgDatabase } from './pg.js';
import { isTransientDatabaseError } from './transient.js';

describe('isTransientDatabaseError', () => {
  it('knows passing trouble by SQLSTATE, socket code, message or cause', () => {
    for (const code of ['08006', '08003', '57P01', '53300', '55P03', '40001', '40P01', 'ECONNRESET'])
      expect(isTransientDatabaseError({ code, message: 'x' }), code).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDatabaseError(new Error('outer', { cause: { code: '08006' } }))).toBe(true);
  });

  it("refuses the request's own mistakes and the program's", () => {
    // unique_violation, syntax error, invalid text representation, check violation: not passing.
    for (const code of ['23505', '42601', '22P02', '23514', 'ERR_SOMETHING'])
      expect(isTransientDatabaseError({ code, message: 'x' }), code).toBe(false);
    expect(isTransientDatabaseError(new TypeError('undefined is not a function'))).toBe(false);
    expect(isTransientDatabaseError(null)).toBe(false);
    expect(isTransientDatabaseError('08006')).toBe(false);
  });
});

describe('a session the server drops', () => {
  let tdb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createPgDatabase({ connectionString: tdb.url, max: 2, onError: () => {} });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('fails its statement with an error the classifier calls transient', async () => {
    const failure = await db
      .transaction(async (tx) => {
        const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', [])).rows[0]!.pid;
        const other = createPgDatabase({ connectionString: tdb.url, max: 1 });
        await other.query('SELECT pg_terminate_backend($1)', [pid]);
        await other.close();
        await tx.query('SELECT 1 AS one', []);
      })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(isTransientDatabaseError(failure), String(failure)).toBe(true);
  });
});
