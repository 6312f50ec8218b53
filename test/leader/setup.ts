// Shared setup of the multi-process leader tests: a fresh database with the migrations and
// the fenced writes' schema, and the keys the children campaign for.

import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { type LeaderKey, LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fencingSchema } from './invariants.js';

export interface LeaderTestDatabase {
  t: TestDatabase;
  db: Database;
  dispose(): Promise<void>;
}

export async function leaderTestDatabase(): Promise<LeaderTestDatabase> {
  const t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url, max: 3 });
  await migrate(db, migrations);
  await db.exec(fencingSchema);
  return {
    t,
    db,
    async dispose() {
      await db.close();
      await t.drop();
    },
  };
}

/** `count` test keys with ids from 1. */
export function testKeys(count: number): LeaderKey[] {
  const registry = new LeaderKeyRegistry();
  return Array.from({ length: count }, (_, i) => registry.register(`key-${i + 1}`, i + 1));
}
