import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult, Row } from './database.js';

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, one session in this process.
 * `dataDir` undefined keeps everything in memory (tests).
 */
export async function createPgliteDatabase(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir, { parsers: { 20: (v: string) => Number(v) } });
  let closed = false;

  const run = async <R extends Row>(
    target: Pick<PGlite, 'query'>,
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> => {
    const res = await target.query<R>(sql, params as unknown[]);
    return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
  };

  return {
    driver: 'pglite',
    query: (sql, params) => run(db, sql, params),
    async exec(sql) {
      await db.exec(sql);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((t) =>
        fn({
          query: (sql, params) => run(t, sql, params),
          async exec(sql) {
            await t.exec(sql);
          },
        }),
      );
    },
    async listen(channel, onNotify) {
      const unsubscribe = await db.listen(channel, onNotify);
      return unsubscribe;
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
