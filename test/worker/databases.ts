import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { parseEnvelope } from '../../src/ha/job/envelope.js';
import { migrations } from '../../src/migrations/index.js';
import { type DriverName, openTestDatabase } from '../helpers/db.js';

/**
 * A migrated database on `driver` for the tests of the calling `describe` block: opened before
 * them, closed and dropped after them. Read `db` inside tests and hooks only.
 */
export function migratedDatabase(driver: DriverName): { readonly db: Database } {
  let db: Database | undefined;
  let dispose: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const opened = await openTestDatabase(driver);
    dispose = opened.dispose;
    db = opened.db;
    await migrate(db, migrations);
  });
  afterAll(async () => {
    await dispose?.();
  });
  return {
    get db(): Database {
      if (db === undefined) throw new Error('the test database is opened in beforeAll');
      return db;
    },
  };
}

/** A queue name no other test uses. */
export const uniqueQueueName = (): string => `q_${randomUUID().slice(0, 8)}`;

/** The job keys of the messages in Postgres queue `queue`, in queue order (what a test asserts on). */
export async function jobKeysInQueue(db: Database, queue: string): Promise<string[]> {
  const res = await db.query<{ body: string }>(
    'SELECT body FROM stratus_queue_messages WHERE queue = $1 ORDER BY id',
    [queue],
  );
  return res.rows.map((r) => {
    const parsed = parseEnvelope(r.body);
    return parsed.ok ? parsed.job.key : '?';
  });
}
