import { readdirSync, readFileSync } from 'node:fs';
import type { Database, Queryable } from './database.js';
import { LockClass } from './lock-ids.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `NNNN_name.sql` files from a folder, in version order. Versions must be unique. */
export function readMigrations(dir: URL): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = FILE.exec(file);
    if (!m) continue;
    migrations.push({
      version: Number(m[1]),
      name: m[2]!,
      sql: readFileSync(new URL(file, dir), 'utf8'),
    });
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations have version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

async function appliedVersions(q: Queryable): Promise<Set<number>> {
  const exists = await q.query<{ found: boolean }>(
    `SELECT to_regclass('stratus_migrations') IS NOT NULL AS found`,
  );
  if (!exists.rows[0]?.found) return new Set();
  const res = await q.query<{ version: number }>('SELECT version FROM stratus_migrations');
  return new Set(res.rows.map((r) => Number(r.version)));
}

/**
 * Applies the migrations not yet applied, all in ONE transaction under a transaction-level
 * advisory lock: replicas starting at once queue on the lock, and each one after the first
 * finds nothing left to do. A failing migration rolls back every migration of the run.
 * Returns the versions this call applied.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [LockClass.migrations]);
    await tx.query(`CREATE TABLE IF NOT EXISTS stratus_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await appliedVersions(tx);
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await tx.query('INSERT INTO stratus_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** The versions known to the code that the database has not applied yet. */
export async function pendingMigrations(db: Queryable, migrations: readonly Migration[]): Promise<number[]> {
  const done = await appliedVersions(db);
  return migrations.filter((m) => !done.has(m.version)).map((m) => m.version);
}
