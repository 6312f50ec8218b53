import { afterEach, describe, expect, it } from 'vitest';
import { type DriverName, drivers } from '../../../test/helpers/db.js';
import { until } from '../../../test/helpers/poll.js';
import { jobKeysInQueue, migratedDatabase, uniqueQueueName } from '../../../test/worker/databases.js';
import type { Database, Queryable } from '../db/database.js';
import { isInvalidJobError } from '../job/errors.js';
import { createPostgresLedger } from '../ledger/postgres-ledger.js';
import type { Queue } from '../queue/port.js';
import { createPostgresQueue } from '../queue/postgres/postgres-queue.js';
import { createRelayWaker, enqueue, enqueueBatch, enqueueQuiet, OUTBOX_CHANNEL } from './outbox.js';
import { createOutboxRelay } from './relay.js';
import { createOutboxSweeper } from './sweeper.js';

/** Moves every dispatch time of the outbox into the past: the test's stand-in for time passing. */
const age = (db: Database, ms: number) =>
  db.query(
    `UPDATE stratus_outbox SET dispatched_at = dispatched_at - $1::integer * interval '1 millisecond'`,
    [ms],
  );

describe.each(drivers)('outbox on %s', (driver: DriverName) => {
  const t = migratedDatabase(driver);
  const ledger = () => createPostgresLedger(t.db);
  const opened: Queue[] = [];
  /** A Postgres queue of the test's own on the same database: a real adapter, not a double. */
  const openQueue = () => {
    const name = uniqueQueueName();
    const queue = createPostgresQueue({ db: t.db, name, consumer: 'relay' });
    opened.push(queue);
    return { name, queue };
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });

  it('writes jobs only with the transaction that carries them, once per key', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await enqueue(tx, { key: 'rolled-back', kind: 'k' });
        throw new Error('caller aborts');
      }),
    ).rejects.toThrow('caller aborts');
    expect(await t.db.transaction((tx) => enqueue(tx, { key: 'kept', kind: 'k', payload: { n: 1 } }))).toBe(
      true,
    );
    expect(await t.db.transaction((tx) => enqueue(tx, { key: 'kept', kind: 'k' }))).toBe(false);
    const rows = await t.db.query<{ job_key: string }>('SELECT job_key FROM stratus_outbox');
    expect(rows.rows.map((r) => r.job_key)).toEqual(['kept']);
    await t.db.query('DELETE FROM stratus_outbox');
  });

  it('refuses a job whose key no ledger row can hold, before writing anything', async () => {
    const err = await t.db
      .transaction((tx) =>
        enqueueBatch(tx, [
          { key: 'fine', kind: 'k' },
          { key: 'nul\u0000', kind: 'k' },
        ]),
      )
      .catch((e: unknown) => e);
    expect(isInvalidJobError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'invalid job: job key contains the control character U+0000 at index 3',
    );
    expect((await t.db.query('SELECT 1 FROM stratus_outbox')).rowCount).toBe(0);
  });

  it('enqueueQuiet writes with its transaction and notifies nobody; a relay waker does, coalesced', async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen(OUTBOX_CHANNEL, (payload) => heard.push(payload));
    try {
      await expect(
        t.db.transaction(async (tx) => {
          await enqueueQuiet(tx, { key: 'quiet-rolled-back', kind: 'k' });
          throw new Error('caller aborts');
        }),
      ).rejects.toThrow('caller aborts');
      await t.db.transaction((tx) => enqueueQuiet(tx, { key: 'quiet', kind: 'k' }));
      // A marker after it: notifications arrive in commit order, so once the marker is heard,
      // one from the quiet enqueue would have been heard before it.
      await t.db.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', 'marker')`);
      await until(() => heard.includes('marker'), 10_000, 'the marker');
      expect(heard).toEqual(['marker']);
      const rows = await t.db.query<{ job_key: string }>('SELECT job_key FROM stratus_outbox');
      expect(rows.rows.map((r) => r.job_key)).toEqual(['quiet']);

      // Ten wake-ups in a burst: one notification in flight, one more after it for the rest.
      heard.length = 0;
      let sent = 0;
      const counting: Queryable = {
        query: (sql, params) => {
          sent++;
          return t.db.query(sql, params);
        },
        exec: (sql) => t.db.exec(sql),
      };
      const wake = createRelayWaker(counting);
      for (let i = 0; i < 10; i++) wake();
      await until(() => heard.length >= 2, 10_000, 'two notifications');
      expect(heard).toEqual(['', '']);
      expect(sent).toBe(2);
      // A failing notification is reported, and the waker still works after it.
      const errors: unknown[] = [];
      let fail = true;
      const flaky = createRelayWaker(
        {
          query: (sql, params) =>
            fail ? Promise.reject(new Error('connection lost')) : t.db.query(sql, params),
          exec: (sql) => t.db.exec(sql),
        },
        (err) => errors.push(err),
      );
      flaky();
      await until(() => errors.length === 1, 10_000, 'the reported failure');
      fail = false;
      flaky();
      await until(() => heard.length >= 3, 10_000, 'a notification after the failure');
    } finally {
      await unlisten();
      await t.db.query('DELETE FROM stratus_outbox');
    }
  });

  it('relays rows into the queue in batches, woken by NOTIFY', async () => {
    const { name, queue } = openQueue();
    const relay = createOutboxRelay({ db: t.db, queue, batchSize: 7, pollMs: 60_000 });
    const controller = new AbortController();
    const running = relay.start(controller.signal);
    try {
      await t.db.transaction((tx) =>
        enqueueBatch(
          tx,
          Array.from({ length: 20 }, (_, i) => ({ key: `r-${i}`, kind: 'k' })),
        ),
      );
      // pollMs is a minute: only the NOTIFY can wake the relay within this deadline.
      const deadline = Date.now() + 10_000;
      while ((await jobKeysInQueue(t.db, name)).length < 20 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect((await jobKeysInQueue(t.db, name)).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `r-${i}`).sort(),
      );
      expect(await relay.dispatchOnce()).toBe(0);
    } finally {
      controller.abort();
      await running;
    }
  });

  it('keeps rows undispatched when the queue refuses them', async () => {
    const queue = {
      ...openQueue().queue,
      addBatch: async (): Promise<string[]> => {
        throw new Error('redis is down');
      },
    };
    await t.db.transaction((tx) => enqueue(tx, { key: 'refused-1', kind: 'k' }));
    const relay = createOutboxRelay({ db: t.db, queue });
    await expect(relay.dispatchOnce()).rejects.toThrow('redis is down');
    const row = await t.db.query(
      'SELECT 1 FROM stratus_outbox WHERE job_key = $1 AND dispatched_at IS NULL AND claimed_until IS NULL AND dispatch_count = 0',
      ['refused-1'],
    );
    expect(row.rowCount).toBe(1);
    // Handed back: the next round takes it at once.
    const { name, queue: working } = openQueue();
    expect(await createOutboxRelay({ db: t.db, queue: working }).dispatchOnce()).toBe(1);
    expect(await jobKeysInQueue(t.db, name)).toEqual(['refused-1']);
    await t.db.query('DELETE FROM stratus_outbox');
  });

  it('loses no row to a relay that died between its claim and its add: the sweeper sends it', async () => {
    const { name, queue } = openQueue();
    await t.db.transaction((tx) => enqueue(tx, { key: 'claimed-then-died', kind: 'k' }));
    // The relay's claim marks the row dispatched; the process dies before the queue call.
    const never = new Promise<string[]>(() => {});
    const dying = createOutboxRelay({ db: t.db, queue: { ...queue, addBatch: () => never } });
    void dying.dispatchOnce();
    await until(
      async () =>
        (
          await t.db.query(
            "SELECT 1 FROM stratus_outbox WHERE job_key = 'claimed-then-died' AND dispatched_at IS NOT NULL",
          )
        ).rowCount === 1,
      5_000,
      'the claim',
    );
    // Another relay does not take it again, and nothing is on the queue.
    expect(await createOutboxRelay({ db: t.db, queue }).dispatchOnce()).toBe(0);
    expect(await jobKeysInQueue(t.db, name)).toEqual([]);
    const sweeper = createOutboxSweeper({ db: t.db, queue, graceMs: 30_000 });
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 0, redispatched: 0, orphans: 0 });
    await age(t.db, 31_000);
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 0, redispatched: 1, orphans: 0 });
    expect(await jobKeysInQueue(t.db, name)).toEqual(['claimed-then-died']);
    await t.db.query('DELETE FROM stratus_outbox');
  });

  it('sends at once the rows of a relay that left no session behind, and only those', async () => {
    const { name, queue } = openQueue();
    const keys = ['orphan', 'relay-alive', 'started', 'fresh'];
    await t.db.transaction((tx) =>
      enqueueBatch(
        tx,
        keys.map((key) => ({ key, kind: 'k' })),
      ),
    );
    // Each row claimed by a relay that died before its add (the claim names its session).
    const never = new Promise<string[]>(() => {});
    void createOutboxRelay({ db: t.db, queue: { ...queue, addBatch: () => never } }).dispatchOnce();
    await until(
      async () =>
        (await t.db.query('SELECT 1 FROM stratus_outbox WHERE dispatched_at IS NOT NULL')).rowCount === 4,
      5_000,
      'the claim',
    );
    const own = (await t.db.query<{ name: string }>("SELECT current_setting('application_name') AS name"))
      .rows[0]!.name;
    const by = await t.db.query<{ job_key: string; dispatched_by: string }>(
      'SELECT job_key, dispatched_by FROM stratus_outbox ORDER BY id',
    );
    expect(by.rows.map((r) => r.dispatched_by)).toEqual([own, own, own, own]);
    const claimedBy = (key: string, relay: string) =>
      t.db.query('UPDATE stratus_outbox SET dispatched_by = $2 WHERE job_key = $1', [key, relay]);
    await claimedBy('orphan', 'stratus:gone-node');
    await claimedBy('started', 'stratus:gone-node');
    await claimedBy('fresh', 'stratus:gone-node');
    // 'relay-alive' stays this process's own: its relay is alive. 'started' began (a ledger row).
    const r = await ledger().tryAcquire('started', 'w', 60_000);
    expect(r.acquired).toBe(true);
    await age(t.db, 1_500);
    // 'fresh' was claimed just now (a while ahead, so that no stall of this test ages it).
    await t.db.query(
      "UPDATE stratus_outbox SET dispatched_at = now() + interval '1 hour' WHERE job_key = 'fresh'",
    );
    const sweeper = createOutboxSweeper({ db: t.db, queue, graceMs: 30_000 });
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 0, redispatched: 1, orphans: 1 });
    expect(await jobKeysInQueue(t.db, name)).toEqual(['orphan']);
    // Sent, its dispatch is known to have reached the queue: it names no relay any more.
    const after = await t.db.query<{ dispatched_by: string | null }>(
      "SELECT dispatched_by FROM stratus_outbox WHERE job_key = 'orphan'",
    );
    expect(after.rows[0]!.dispatched_by).toBeNull();
    expect((await sweeper.sweepOnce()).orphans).toBe(0);
    // Past its second, 'fresh' goes too.
    await t.db.query(
      "UPDATE stratus_outbox SET dispatched_at = now() - interval '1500 milliseconds' WHERE job_key = 'fresh'",
    );
    expect((await sweeper.sweepOnce()).orphans).toBe(1);
    expect(await jobKeysInQueue(t.db, name)).toEqual(['orphan', 'fresh']);
    await t.db.query('DELETE FROM stratus_outbox');
    await t.db.query('DELETE FROM stratus_ledger');
  });

  it.runIf(driver === 'pg')('leaves alone the rows of a relay whose session is still there', async () => {
    const { name, queue } = openQueue();
    await t.db.transaction((tx) => enqueue(tx, { key: 'alive-elsewhere', kind: 'k' }));
    const never = new Promise<string[]>(() => {});
    void createOutboxRelay({ db: t.db, queue: { ...queue, addBatch: () => never } }).dispatchOnce();
    await until(
      async () =>
        (await t.db.query('SELECT 1 FROM stratus_outbox WHERE dispatched_at IS NOT NULL')).rowCount === 1,
      5_000,
      'the claim',
    );
    await t.db.query("UPDATE stratus_outbox SET dispatched_by = 'stratus:other-node'");
    await age(t.db, 1_500);
    const sweeper = createOutboxSweeper({ db: t.db, queue, graceMs: 30_000 });
    // Another process's relay, alive (a session of its name in this database): not an orphan.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let named: () => void = () => {};
    const isNamed = new Promise<void>((resolve) => (named = resolve));
    const session = t.db.transaction(async (tx) => {
      await tx.query("SET LOCAL application_name = 'stratus:other-node'");
      named();
      await held;
    });
    await isNamed;
    try {
      expect((await sweeper.sweepOnce()).orphans).toBe(0);
    } finally {
      release();
      await session;
    }
    // Its session gone, the row is one.
    expect((await sweeper.sweepOnce()).orphans).toBe(1);
    expect(await jobKeysInQueue(t.db, name)).toEqual(['alive-elsewhere']);
    await t.db.query('DELETE FROM stratus_outbox');
  });

  it('re-dispatches stranded jobs only, and marks finished ones done', async () => {
    const { name, queue } = openQueue();
    await t.db.transaction((tx) =>
      enqueueBatch(
        tx,
        ['never-started', 'running', 'crashed', 'completed', 'retry-later'].map((key) => ({
          key,
          kind: 'k',
        })),
      ),
    );
    await createOutboxRelay({ db: t.db, queue }).dispatchOnce();
    const lease = async (key: string) => {
      const r = await ledger().tryAcquire(key, 'w', 60_000);
      if (!r.acquired) throw new Error('refused');
      return r.lease;
    };
    await lease('running');
    await lease('crashed');
    await ledger().complete('completed', (await lease('completed')).token);
    await ledger().fail('retry-later', (await lease('retry-later')).token, {
      retryable: true,
      retryInMs: 3_600_000,
      error: 'e',
    });
    await t.db.query(
      `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 minute' WHERE job_key = 'crashed'`,
    );

    const sweeper = createOutboxSweeper({ db: t.db, queue, graceMs: 30_000 });
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 1, redispatched: 0, orphans: 0 });
    await age(t.db, 31_000);
    const before = (await jobKeysInQueue(t.db, name)).length;
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 0, redispatched: 2, orphans: 0 });
    expect((await jobKeysInQueue(t.db, name)).slice(before).sort()).toEqual(['crashed', 'never-started']);
    // A re-dispatched row waits twice the grace before its next re-dispatch.
    await age(t.db, 31_000);
    expect((await sweeper.sweepOnce()).redispatched).toBe(0);
    await age(t.db, 31_000);
    expect((await sweeper.sweepOnce()).redispatched).toBe(2);
  });
});
