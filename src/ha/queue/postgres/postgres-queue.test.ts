import { describe, expect, it } from 'vitest';
import { type DriverName, drivers, openTestDatabase } from '../../../../test/helpers/db.js';
import { migratedDatabase } from '../../../../test/worker/databases.js';
import { migrations } from '../../../migrations/index.js';
import { migrate } from '../../db/migrate.js';
import { queueContract } from '../contract.js';
import { createPostgresQueue } from './postgres-queue.js';

describe.each(drivers)('PostgreSQL queue on %s', (driver: DriverName) => {
  queueContract(`PostgreSQL (${driver})`, async () => {
    const { db, dispose } = await openTestDatabase(driver);
    await migrate(db, migrations);
    return {
      async open(options) {
        return createPostgresQueue({ ...options, db });
      },
      dispose,
    };
  });

  describe('wake-up', () => {
    const t = migratedDatabase(driver);

    it('wakes a blocked receiver by NOTIFY, long before its poll interval', async () => {
      const { db } = t;
      // With a 30 s poll, only the notification can end the wait within the bound below.
      const reader = createPostgresQueue({ db, name: 'wake', consumer: 'r', pollIntervalMs: 30_000 });
      const writer = createPostgresQueue({ db, name: 'wake', consumer: 'w' });
      const other = createPostgresQueue({ db, name: 'elsewhere', consumer: 'w' });
      try {
        const waiting = reader.receive(10, 20_000);
        await other.add('not for the reader');
        await new Promise((r) => setTimeout(r, 200)); // let the reader block
        const addedAt = Date.now();
        await writer.add('for the reader');
        expect((await waiting).map((d) => d.body)).toEqual(['for the reader']);
        expect(Date.now() - addedAt).toBeLessThan(3_000);
      } finally {
        await Promise.all([reader.close(), writer.close(), other.close()]);
      }
    });
  });
});
