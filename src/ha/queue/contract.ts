import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, Queue, QueueOptions } from './port.js';

/** What a queue adapter's test file hands to the contract suite. */
export interface QueueFixture {
  /** Opens a handle for one consumer; handles opened with the same `name` share one queue. */
  open(options: QueueOptions): Promise<Queue>;
  /** Releases what the fixture opened (database, client), after every handle is closed. */
  dispose(): Promise<void>;
}

/** Polls `probe` until it returns something other than undefined, or fails at the deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  deadlineMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Lets `ms` of queue time pass: only where the point is that nothing happens meanwhile. */
const pass = (ms: number) => new Promise((r) => setTimeout(r, ms));

const nonEmpty = (ds: Delivery[]) => (ds.length > 0 ? ds : undefined);

/**
 * The one contract every durable queue adapter passes. Times are short (visibility timeouts of
 * a few hundred ms) and every wait for an effect polls with a deadline, so the suite proves the
 * timing guarantees without sleeping on a loaded machine.
 */
export function queueContract(adapter: string, setup: () => Promise<QueueFixture>): void {
  describe(`queue contract on ${adapter}`, () => {
    let fixture: QueueFixture;
    const opened: Queue[] = [];
    let queueName = '';

    beforeAll(async () => {
      fixture = await setup();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((q) => q.close()));
    });
    afterAll(async () => {
      await fixture?.dispose();
    });

    /** Opens `count` consumers of a queue of this test's own. */
    async function consumers(count: number, options: Partial<QueueOptions> = {}): Promise<Queue[]> {
      queueName = `q_${randomUUID().slice(0, 8)}`;
      const out: Queue[] = [];
      for (let i = 0; i < count; i++) {
        const q = await fixture.open({ name: queueName, consumer: `c${i}`, ...options });
        opened.push(q);
        out.push(q);
      }
      return out;
    }

    it('adds, receives and acks; an acked message is gone for good', async () => {
      const [a, b] = await consumers(2, { visibilityTimeoutMs: 200 });
      const id = await a!.add('hello');
      const got = await a!.receive(10, 1_000);
      expect(got).toEqual([{ id, body: 'hello', deliveries: 1 }]);
      await a!.ack([id]);
      expect(await a!.stats()).toMatchObject({ length: 0, pending: 0, lag: 0 });
      await pass(300);
      expect(await b!.reclaim(10)).toEqual([]);
      expect(await b!.receive(10, 0)).toEqual([]);
      await a!.ack([id, 'unknown-but-harmless']);
    });

    it('adds a batch and receives several messages per call, in order', async () => {
      const [a] = await consumers(1);
      const bodies = Array.from({ length: 20 }, (_, i) => `m${i}`);
      const ids = await a!.addBatch(bodies);
      expect(new Set(ids).size).toBe(20);
      const got: Delivery[] = [];
      while (got.length < 20)
        got.push(...(await eventually(async () => nonEmpty(await a!.receive(50, 500)), 'batch')));
      expect(got.map((d) => d.body)).toEqual(bodies);
      expect(got.map((d) => d.id)).toEqual(ids);
      expect(got.every((d) => d.deliveries === 1)).toBe(true);
    });

    it('hides a held message from others until the visibility timeout, then hands it over', async () => {
      const [a, b] = await consumers(2, { visibilityTimeoutMs: 1_000 });
      const id = await a!.add('x');
      const receivedAt = Date.now();
      expect((await a!.receive(1, 1_000)).map((d) => d.id)).toEqual([id]);
      expect(await b!.receive(10, 0)).toEqual([]);
      expect(await b!.reclaim(10)).toEqual([]);
      const taken = await eventually(async () => nonEmpty(await b!.reclaim(10)), 'reclaim after timeout');
      expect(Date.now() - receivedAt).toBeGreaterThanOrEqual(900);
      expect(taken).toEqual([{ id, body: 'x', deliveries: 2 }]);
      // The former holder cannot give it back any more: b holds it now.
      await a!.release(id, 0);
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 1 });
      expect(await a!.receive(10, 0)).toEqual([]);
    });

    it('does not reclaim a message its holder keeps touching', async () => {
      // A visibility timeout well above the touch period plus the event-loop stalls of a loaded
      // two-core machine, so that only a missing touch can let the message go.
      const [a, b] = await consumers(2, { visibilityTimeoutMs: 1_000 });
      const id = await a!.add('long job');
      await a!.receive(1, 1_000);
      // Touch by a consumer that does not hold it must not take it over.
      await b!.touch([id]);
      await b!.release(id, 0); // b would hold it now if its touch had taken it over
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 1, lag: 0 });
      const until = Date.now() + 1_800;
      while (Date.now() < until) {
        await a!.touch([id]);
        expect(await b!.reclaim(10)).toEqual([]);
        await pass(100);
      }
      const taken = await eventually(async () => nonEmpty(await b!.reclaim(10)), 'reclaim once touches stop');
      expect(taken.map((d) => [d.id, d.deliveries])).toEqual([[id, 2]]);
    });

    it('release(0) redelivers exactly one copy, keeping the delivery count', async () => {
      const [a, b] = await consumers(2, { visibilityTimeoutMs: 300 });
      const id = await a!.add('again');
      await a!.receive(1, 1_000);
      await b!.release(id, 0); // not b's to release
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 1, lag: 0 });
      await a!.release(id, 0);
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 0, lag: 1 });
      const again = await b!.receive(10, 1_000);
      expect(again.map((d) => [d.body, d.deliveries])).toEqual([['again', 2]]);
      expect(await b!.receive(10, 0)).toEqual([]);
      const reclaimed = await eventually(async () => nonEmpty(await a!.reclaim(10)), 'reclaim');
      expect(reclaimed.map((d) => [d.id, d.deliveries])).toEqual([[again[0]!.id, 3]]);
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 1 });
    });

    it('release(delay) holds a message back until its time has come', async () => {
      const [a] = await consumers(1);
      await a!.add('later');
      const [m] = await a!.receive(1, 1_000);
      const releasedAt = Date.now();
      await a!.release(m!.id, 600);
      await a!.promoteDelayed();
      expect(await a!.receive(10, 0)).toEqual([]);
      expect(await a!.stats()).toMatchObject({ length: 0, pending: 0, delayed: 1 });
      const back = await eventually(async () => {
        await a!.promoteDelayed();
        return nonEmpty(await a!.receive(10, 0));
      }, 'delayed message back');
      expect(Date.now() - releasedAt).toBeGreaterThanOrEqual(550);
      expect(back.map((d) => [d.body, d.deliveries])).toEqual([['later', 2]]);
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 1, delayed: 0 });
    });

    it('counts deliveries up on every reclaim and buries nothing by itself', async () => {
      const [a, b] = await consumers(2, { visibilityTimeoutMs: 200 });
      const id = await a!.add('poison');
      expect((await a!.receive(1, 1_000))[0]?.deliveries).toBe(1);
      let holder = b!;
      for (let n = 2; n <= 12; n++) {
        const got = await eventually(async () => nonEmpty(await holder.reclaim(10)), `delivery ${n}`);
        expect(got.map((d) => [d.id, d.body, d.deliveries])).toEqual([[id, 'poison', n]]);
        holder = holder === a ? b! : a!;
      }
      // Past any limit, the message is still there for its consumer to judge: the dead letter
      // is the consumer's verdict, recorded in its ledger first.
      expect(await a!.stats()).toMatchObject({ length: 1, pending: 1, deadLetters: 0 });
    });

    it('release(0, unworked) takes the delivery back and wakes a blocked receiver', async () => {
      const [a, b] = await consumers(2);
      await a!.add('no room here');
      const [m] = await a!.receive(1, 1_000);
      expect(m?.deliveries).toBe(1);
      const waiting = b!.receive(10, 5_000);
      const releasedAt = Date.now();
      await a!.release(m!.id, 0, { unworked: true });
      const got = await waiting;
      expect(got.map((d) => [d.body, d.deliveries])).toEqual([['no room here', 1]]);
      // Woken, not found by its next poll or block timeout.
      expect(Date.now() - releasedAt).toBeLessThan(2_000);
    });

    it('dead-letters a message on request, with the reason', async () => {
      const [a] = await consumers(1);
      const id = await a!.add('{not json');
      await a!.receive(1, 1_000);
      await a!.deadLetter(id, 'cannot parse the body');
      await a!.deadLetter(id, 'twice is a no-op');
      expect(await a!.stats()).toMatchObject({ length: 0, pending: 0, deadLetters: 1 });
      expect(await a!.deadLetters(10)).toEqual([
        expect.objectContaining({
          body: '{not json',
          reason: 'cannot parse the body',
          deliveries: 1,
          messageId: id,
        }),
      ]);
      expect(await a!.receive(10, 0)).toEqual([]);
    });

    it('reports length, pending, lag, oldest pending age, delayed and dead letters', async () => {
      const [a] = await consumers(1);
      expect(await a!.stats()).toEqual({
        length: 0,
        pending: 0,
        lag: 0,
        oldestPendingMs: 0,
        delayed: 0,
        deadLetters: 0,
      });
      await a!.addBatch(['a', 'b', 'c', 'd']);
      const held = await a!.receive(2, 1_000);
      expect(held.map((d) => d.body)).toEqual(['a', 'b']);
      await a!.release(held[1]!.id, 60_000);
      const [c] = await a!.receive(1, 1_000);
      await a!.deadLetter(c!.id, 'bad');
      const stats = await eventually(async () => {
        const s = await a!.stats();
        return s.oldestPendingMs > 0 ? s : undefined;
      }, 'pending age grows');
      expect(stats).toMatchObject({ length: 2, pending: 1, lag: 1, delayed: 1, deadLetters: 1 });
      expect(stats.oldestPendingMs).toBeLessThan(60_000);
      // The age counts from the add, not from the last touch: a stuck message that is kept
      // touched still shows how long it has waited.
      // Between the two snapshots at least (sentAgain - answered) passed on the store's clock.
      const answered = Date.now();
      await pass(300);
      await a!.touch([held[0]!.id]);
      const sentAgain = Date.now();
      const later = await a!.stats();
      expect(later.oldestPendingMs).toBeGreaterThanOrEqual(
        stats.oldestPendingMs + (sentAgain - answered) - 10,
      );
    });

    it('ends a blocking receive promptly when its signal aborts or the queue closes', async () => {
      const [a, b] = await consumers(2);
      const before = new AbortController();
      before.abort();
      expect(await a!.receive(10, 20_000, before.signal)).toEqual([]);

      const controller = new AbortController();
      const pending = a!.receive(10, 20_000, controller.signal);
      await pass(200); // let the read block
      const abortedAt = Date.now();
      controller.abort();
      expect(await pending).toEqual([]);
      expect(Date.now() - abortedAt).toBeLessThan(1_000);

      // Neither the handle nor the queue is wedged afterwards.
      const id = await b!.add('after abort');
      expect((await a!.receive(10, 2_000)).map((d) => d.id)).toEqual([id]);

      const open = b!.receive(10, 20_000);
      await pass(200);
      const closedAt = Date.now();
      await b!.close();
      expect(await open).toEqual([]);
      expect(Date.now() - closedAt).toBeLessThan(1_000);
    });

    it('wakes a blocked receive when a message is added', async () => {
      const [a, b] = await consumers(2);
      const waiting = a!.receive(10, 10_000);
      await pass(200);
      const addedAt = Date.now();
      await b!.add('wake up');
      expect((await waiting).map((d) => d.body)).toEqual(['wake up']);
      expect(Date.now() - addedAt).toBeLessThan(2_000);
    });

    it('keeps consumers that hold messages when removing dead ones', async () => {
      const [a, b] = await consumers(2, { visibilityTimeoutMs: 200 });
      const id = await a!.add('held');
      await a!.receive(1, 1_000);
      await pass(150);
      const removed = await b!.removeDeadConsumers(100);
      expect(removed).not.toContain('c0');
      const taken = await eventually(async () => nonEmpty(await b!.reclaim(10)), 'still reclaimable');
      expect(taken.map((d) => d.id)).toEqual([id]);
    });

    it('gives 200 concurrent receivers disjoint sets of 1000 messages', { timeout: 60_000 }, async () => {
      const receivers = await consumers(200, { visibilityTimeoutMs: 60_000 });
      const bodies = Array.from({ length: 1_000 }, (_, i) => `job-${i}`);
      for (let i = 0; i < bodies.length; i += 100) await receivers[0]!.addBatch(bodies.slice(i, i + 100));
      const seen: string[] = [];
      const deadline = Date.now() + 30_000;
      await Promise.all(
        receivers.map(async (q) => {
          while (seen.length < bodies.length && Date.now() < deadline) {
            for (const d of await q.receive(5, 100)) seen.push(d.body);
          }
        }),
      );
      expect(seen.length).toBe(1_000);
      expect(new Set(seen).size).toBe(1_000);
      expect(await receivers[0]!.stats()).toMatchObject({ length: 1_000, pending: 1_000, lag: 0 });
    });
  });
}
