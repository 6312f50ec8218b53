import { describe, expect, it } from 'vitest';
import { jobKey, type Transport, until, workerBench } from '../../../test/worker/harness.js';
import { enqueue } from '../outbox/outbox.js';
import { createOutboxRelay } from '../outbox/relay.js';
import { createOutboxSweeper } from '../outbox/sweeper.js';
import type { DeadLetterInfo } from './types.js';

const transports: Transport[] = ['postgres', 'redis'];

describe.each(transports)('the delivery limit on the %s queue', (transport) => {
  const bench = workerBench(transport);

  it('fails the job in the ledger, reports it once, and the sweeper counts it finished', async () => {
    const q = bench.testQueue({ visibilityTimeoutMs: 100 });
    const k = jobKey();
    await bench.db.transaction((tx) => enqueue(tx, { key: k, kind: 'poison' }));
    expect(await createOutboxRelay({ db: bench.db, queue: q.producer }).dispatchOnce()).toBe(1);
    // Workers that die on receipt: the message is handed out three times, never acked.
    const crasher = q.consumer('crasher');
    expect(await crasher.receive(1, 1_000)).toHaveLength(1);
    for (let n = 2; n <= 3; n++) {
      await until(async () => (await crasher.reclaim(1)).some((d) => d.deliveries === n));
    }
    let ran = 0;
    const hooked: DeadLetterInfo[] = [];
    bench.startWorker(q, {
      maxDeliveries: 3,
      onDeadLetter: (i) => hooked.push(i),
      handlers: {
        poison: async () => {
          ran++;
        },
      },
    });
    const reason = 'delivered 3 times without an ack (limit 3)';
    await until(async () => (await q.deadLetters()).length === 1);
    expect(ran).toBe(0);
    expect(await q.size()).toBe(0);
    expect((await q.deadLetters())[0]).toMatchObject({ reason });
    // Recorded in the ledger first, and reported once.
    expect(await bench.ledger.get(k)).toMatchObject({ state: 'failed', lastError: reason });
    expect(hooked.map((h) => [h.job?.key, h.reason])).toEqual([[k, reason]]);
    // The outbox row is done: the sweeper never sends the job again (it used to, and the job
    // then completed: a false dead letter).
    const sweeper = createOutboxSweeper({ db: bench.db, queue: q.producer, graceMs: 100 });
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 1, redispatched: 0, orphans: 0 });
    await bench.db.query(`UPDATE stratus_outbox SET dispatched_at = dispatched_at - interval '1 hour'`);
    expect(await sweeper.sweepOnce()).toEqual({ markedDone: 0, redispatched: 0, orphans: 0 });
    expect(await q.size()).toBe(0);
  });

  it('counts no retry and no copy bounced off a held lease as a delivery: only deliveries that died', async () => {
    const q = bench.testQueue({ visibilityTimeoutMs: 10_000 });
    const k = jobKey();
    await bench.db.transaction((tx) => enqueue(tx, { key: k, kind: 'flaky' }));
    expect(await createOutboxRelay({ db: bench.db, queue: q.producer }).dispatchOnce()).toBe(1);
    const attempts: number[] = [];
    const hooked: DeadLetterInfo[] = [];
    bench.startWorker(q, {
      // Two deliveries allowed, four attempts needed: each retry goes back through the queue.
      maxDeliveries: 2,
      onDeadLetter: (i) => hooked.push(i),
      handlers: {
        flaky: async ({ attempt }) => {
          attempts.push(attempt);
          if (attempt < 4) throw new Error(`attempt ${attempt} fails`);
        },
      },
    });
    await until(async () => (await bench.ledger.get(k))?.state === 'completed', 20_000);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(hooked).toEqual([]);
    expect(await q.deadLetters()).toHaveLength(0);
  });
});
