import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/ha/db/database.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { createPgliteDatabase } from '../../src/ha/db/pglite.js';
import { PG_URL } from './services.js';

export interface TestDatabase {
  /** The database's own URL: hand it to child processes. */
  url: string;
  name: string;
  /** Drops the database, ending any session still connected to it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty PostgreSQL database for one test file (advisory locks are per database). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `stratus_t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

export type DriverName = 'pg' | 'pglite';

/** The two drivers every data-layer test runs on. */
export const drivers: DriverName[] = ['pg', 'pglite'];

/**
 * Opens a database on the named driver: a fresh PostgreSQL database, or an in-memory PGlite.
 * `dispose` closes it and drops what it created.
 */
export async function openTestDatabase(
  driver: DriverName,
): Promise<{ db: Database; dispose(): Promise<void> }> {
  if (driver === 'pglite') {
    const db = await createPgliteDatabase();
    return { db, dispose: () => db.close() };
  }
  const t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url, max: 5 });
  return {
    db,
    async dispose() {
      await db.close();
      await t.drop();
    },
  };
}
