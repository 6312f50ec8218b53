import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { enqueue } from '../../src/ha/outbox/outbox.js';
import { startApp } from '../../src/runtime/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

describe('--job-lease-ms', () => {
  it('is the ledger lease of every kind that does not set its own', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const config = loadConfig({
      args: ['--job-lease-ms', '60000', '--drain-delay-ms', '0', '--port', '0', '--node-id', 'lease-1'],
      env: { DATABASE_URL: t.url },
    });
    const app = await startApp(config, {
      logger: pino({ level: 'silent' }),
      handlers: { hold: () => gate, own: { handler: () => gate, leaseMs: 2_000 } },
    });
    try {
      const hold = `hold:${randomUUID()}`;
      const own = `own:${randomUUID()}`;
      await app.stores.db.transaction(async (tx) => {
        await enqueue(tx, { key: hold, kind: 'hold' });
        await enqueue(tx, { key: own, kind: 'own' });
      });
      const leaseLeft = async (key: string) => {
        const res = await app.stores.db.query<{ ms: number | null }>(
          `SELECT (extract(epoch FROM lease_expires_at - now()) * 1000)::int8 AS ms
           FROM stratus_ledger WHERE job_key = $1 AND state = 'running'`,
          [key],
        );
        return res.rows[0]?.ms ?? null;
      };
      // The kernel's default lease is 5 s: anything past 30 s left is the configured one.
      await expect.poll(() => leaseLeft(hold), { timeout: 15_000 }).toBeGreaterThan(30_000);
      await expect.poll(() => leaseLeft(own), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(await leaseLeft(own)).toBeLessThanOrEqual(2_000);
    } finally {
      release();
      await app.shutdown('test');
    }
  });
});
