// The pooled database the campaigner children make their fenced writes on. Like the kernel's
// createPgDatabase, but a connection that dies while checked out for a transaction (the
// server ended it, the proxy reset it) fails that transaction instead of emitting an
// unhandled 'error' that would end the process: pg-pool removes its own error listener
// from a client for as long as it is checked out.
import pg from 'pg';
import type { Database, Queryable, QueryResult, Row } from '../../src/ha/db/database.js';
import { pgClientConfig } from '../../src/ha/db/pg.js';

export function createTestPool(connectionString: string, applicationName: string, max: number): Database {
  const pool = new pg.Pool({
    ...pgClientConfig({ connectionString, applicationName, connectionTimeoutMillis: 3_000 }),
    max,
  });
  pool.on('error', () => {});
  const wrap = (client: pg.PoolClient): Queryable => ({
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const res = await client.query(sql, params as unknown[]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
    async exec(sql) {
      await client.query(sql);
    },
  });
  return {
    driver: 'pg',
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]) {
      const res = await pool.query(sql, params as unknown[]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken ??= e;
        });
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken ?? false);
      }
    },
    async listen() {
      throw new Error('not supported by the test pool');
    },
    async close() {
      await pool.end();
    },
  };
}
