// A lock session is one `pg` client shared by the heartbeat, hand-overs and releases: it must
// never send a query while another runs on it (pg warns that this is deprecated; pg 9 refuses it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockSession } from '../../src/ha/leader/lock-session.js';
import { defaultElectorSettings } from '../../src/ha/leader/settings.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('lock session', () => {
  let t: TestDatabase;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);

  beforeAll(async () => {
    t = await createTestDatabase();
    process.on('warning', onWarning);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await t.drop();
  });

  it('runs overlapping queries one after another, in the order they were sent', async () => {
    const session = await LockSession.open(t.url, 'lock-session-test', defaultElectorSettings);
    try {
      const order: string[] = [];
      const slow = session.query<{ v: string }>("SELECT 'slow' AS v, pg_sleep(0.1)").then((r) => {
        order.push(r[0]!.v);
      });
      const fast = session.query<{ v: string }>("SELECT 'fast' AS v").then((r) => {
        order.push(r[0]!.v);
      });
      const failing = session.query('SELECT 1/0').catch(() => order.push('failed'));
      const after = session.query<{ v: string }>("SELECT 'after' AS v").then((r) => {
        order.push(r[0]!.v);
      });
      await Promise.all([slow, fast, failing, after]);
      expect(order).toEqual(['slow', 'fast', 'failed', 'after']);
      // The deprecation warning is emitted on the next tick of the query that caused it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
