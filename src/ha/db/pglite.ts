import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult, Row } from './database.js';
import { initDataDirInChild } from './pglite-init.js';

/**
 * Shared buffers of the embedded database. initdb's default, 128MB, is all resident from the
 * start in WebAssembly memory: measured on PGlite 0.5.16, a process that opens an existing data
 * directory holds 318 MB RSS with it and 186 MB with 16MB. The control plane's working set is far
 * smaller, and reads past the buffers are served by the operating system's file cache.
 */
export const EMBEDDED_SHARED_BUFFERS = '16MB';

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, one session in this process.
 * `dataDir` undefined keeps everything in memory (tests). A data directory that does not exist
 * yet is created in a short-lived child process first (see `initDataDirInChild`: initdb's
 * memory would otherwise stay with this process for its whole life).
 */
export async function createPgliteDatabase(dataDir?: string): Promise<Database> {
  if (dataDir !== undefined) await initDataDirInChild(dataDir);
  const db = await PGlite.create(dataDir, {
    parsers: { 20: (v: string) => Number(v) },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`],
  });
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
    // In process: the subscription cannot be lost on its own, so `onLost` is never called.
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
