// The fence's lock semantics, by experiment on both drivers: a fenced writer that arrives
// while an epoch bump waits queues behind the bump (it is not let in ahead, as a FOR SHARE
// row lock would be), and is refused once the bump commits. Then the fence's bounds: a
// statement bound on the server and a client-side deadline over a blackholed connection.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/ha/db/database.js';
import { LockClass } from '../../src/ha/db/lock-ids.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { createPgliteDatabase } from '../../src/ha/db/pglite.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { migrations } from '../../src/migrations/index.js';
import { until } from '../helpers/poll.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { type LeaderTestDatabase, leaderTestDatabase, testKeys } from './setup.js';

const [key] = testKeys(1);
const insert = (tx: Queryable, epoch: number, n: number) =>
  tx.query('INSERT INTO fenced_writes (key_id, epoch, node, n) VALUES ($1, $2, $3, $4)', [
    key!.id,
    epoch,
    'fence-test',
    n,
  ]);

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * W1 holds the fence of term 1; the bump to term 2 is started and must wait for W1; W2 of term
 * 1 arrives after the bump. Returns the order in which things happened.
 */
async function queueBehindBump(
  db: Database,
  bumpWaiting: () => Promise<void>,
  w2Waiting: () => Promise<void>,
) {
  const space = new MemoryLeadership();
  const elector = new MemoryElector('fence-test', space, db);
  const order: string[] = [];
  try {
    const t1 = await elector.campaign(key!, new AbortController().signal);
    const release = deferred();
    const inW1 = deferred();
    const w1 = fencedTransaction(
      db,
      t1,
      async (tx) => {
        inW1.resolve();
        await release.promise;
        await insert(tx, t1.epoch, 1);
        order.push('w1 committed');
      },
      // W1 idles while the test watches the queue: longer bounds than a real writer's.
      { fencedIdleTimeoutMs: 30_000, fencedDeadlineMs: 30_000 },
    );
    await inW1.promise;
    space.revoke(key!.id);
    const bump = elector.campaign(key!, new AbortController().signal).then((t2) => {
      order.push('bumped');
      return t2;
    });
    await bumpWaiting();
    const w2 = fencedTransaction(db, t1, async (tx) => {
      order.push('w2 ran');
      await insert(tx, t1.epoch, 2);
    }).catch((err: unknown) => {
      order.push(`w2 refused: ${(err as { code?: string }).code}`);
    });
    await w2Waiting();
    expect(order).toEqual([]);
    release.resolve();
    await Promise.all([w1, bump, w2]);
    return order;
  } finally {
    await elector.close();
  }
}

describe('the fence on PostgreSQL', () => {
  let env: LeaderTestDatabase;

  beforeAll(async () => {
    env = await leaderTestDatabase();
  });
  afterAll(() => env.dispose());

  const waiting = (mode: string) => async () => {
    await until(
      async () =>
        (
          await env.db.query(
            `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int8::oid
             AND objid = $2::int8::oid AND mode = $3 AND NOT granted`,
            [LockClass.leadershipFence, key!.id, mode],
          )
        ).rowCount > 0,
      10_000,
      `a ${mode} request of the fence to wait`,
    );
  };

  it('queues a writer that arrives after a waiting bump behind it, then refuses it', async () => {
    // Its own pool: W1, the bump and W2 each hold a connection while the test looks at pg_locks.
    const db = createPgDatabase({ connectionString: env.t.url, max: 4 });
    try {
      const order = await queueBehindBump(db, waiting('ExclusiveLock'), waiting('ShareLock'));
      expect(order).toEqual(['w1 committed', 'bumped', 'w2 refused: STALE_EPOCH']);
    } finally {
      await db.close();
    }
  });

  it('bounds each statement of a fenced transaction on the server', async () => {
    const elector = new MemoryElector('fence-test', new MemoryLeadership(), env.db);
    try {
      const term = await elector.campaign(key!, new AbortController().signal);
      const began = performance.now();
      await expect(
        fencedTransaction(env.db, term, (tx) => tx.query('SELECT pg_sleep(3.5)'), {
          fencedStatementTimeoutMs: 300,
        }),
      ).rejects.toMatchObject({ code: '57014' });
      expect(performance.now() - began).toBeLessThan(2_000);
    } finally {
      await elector.close();
    }
  });

  it('gives up at its client-side deadline when its connection is blackholed, and sends nothing more', async () => {
    const proxy = await startTcpProxy(env.t.url);
    const viaProxy = createPgDatabase({
      connectionString: proxy.urlFor(env.t.url),
      max: 2,
      onError: () => {},
    });
    const elector = new MemoryElector('fence-test', new MemoryLeadership(), env.db);
    try {
      const term = await elector.campaign(key!, new AbortController().signal);
      let afterDeadline: unknown;
      const began = performance.now();
      const write = fencedTransaction(
        viaProxy,
        term,
        async (tx) => {
          proxy.blackhole();
          await tx.query('SELECT 1').catch(() => {});
          afterDeadline = await tx.query('SELECT 2').catch((err: unknown) => err);
        },
        { fencedDeadlineMs: 500 },
      );
      // Without a deadline this waits for the network to heal: 10 s is far beyond the bound.
      const outcome = await Promise.race([
        write.then(
          () => 'committed',
          (err: unknown) => (err as { code?: string }).code,
        ),
        new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000).unref()),
      ]);
      expect(outcome).toBe('FENCE_DEADLINE');
      expect(performance.now() - began).toBeLessThan(2_000);
      proxy.resume();
      await until(async () => afterDeadline !== undefined, 10_000, 'the transaction to be abandoned');
      expect(afterDeadline).toMatchObject({ code: 'FENCE_DEADLINE' });
    } finally {
      proxy.resume();
      await elector.close();
      await viaProxy.close();
      await proxy.close();
    }
  });
});

describe('the fence on PGlite', () => {
  let db: Database;

  beforeAll(async () => {
    db = await createPgliteDatabase();
    await migrate(db, migrations);
    await db.exec(
      'CREATE TABLE fenced_writes (key_id integer, epoch bigint, node text, n integer, PRIMARY KEY (node, n))',
    );
  }, 60_000);
  afterAll(() => db?.close());

  // One session: transactions and the bump take turns in the order they were sent, so a
  // waiting bump is never overtaken either. Waiting is observed as "has not run yet".
  it('runs a bump that was waiting before a later writer, which is then refused', async () => {
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const order = await queueBehindBump(db, turn, turn);
    expect(order).toEqual(['w1 committed', 'bumped', 'w2 refused: STALE_EPOCH']);
  });
});
