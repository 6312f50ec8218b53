import { beforeAll, describe, expect, it } from 'vitest';
import { type BenchQueue, deferred, jobKey, until, workerBench } from '../../../test/worker/harness.js';
import { encodeEnvelope } from '../job/envelope.js';
import type { ExecutionLedger } from '../ledger/port.js';
import type { Queue } from '../queue/port.js';
import { isJobTimeoutError, isLeaseLostError, TerminalJobError } from './errors.js';
import type { DeadLetterInfo, JobContext } from './types.js';

const bench = workerBench('postgres');
const t = bench;
let ledger: ExecutionLedger;
beforeAll(() => {
  ledger = bench.ledger;
});
const testQueue = () => bench.testQueue();
type TestQueue = BenchQueue;
const startWorker = bench.startWorker;
const empty = (q: TestQueue) => async () => (await q.messages()).length === 0;
const key = jobKey;

describe('worker runtime', () => {
  it('completes in the ledger, then acks', async () => {
    const q = testQueue();
    const events: string[] = [];
    const producer = q.producer;
    const keys = [key(), key(), key()];
    await producer.addBatch(keys.map((k) => encodeEnvelope({ key: k, kind: 'noop' })));
    const tracingLedger: ExecutionLedger = {
      ...ledger,
      async exchange(completions, requests, owner) {
        if (completions.length > 0) events.push(`complete:${completions.length}`);
        return ledger.exchange(completions, requests, owner);
      },
    };
    const base = q.consumer('w1');
    const queue: Queue = {
      ...base,
      ack: async (ids) => {
        events.push(`ack:${ids.length}`);
        return base.ack(ids);
      },
    };
    const seen: JobContext[] = [];
    startWorker(q, {
      queue,
      ledger: tracingLedger,
      handlers: {
        noop: async (ctx) => {
          seen.push(ctx);
        },
      },
    });
    await until(empty(q));
    for (const k of keys) expect((await ledger.get(k))?.state).toBe('completed');
    expect(events[0]).toMatch(/^complete:/);
    expect(events.indexOf(events.find((e) => e.startsWith('ack'))!)).toBeGreaterThan(0);
    expect(seen.map((c) => c.clientToken).sort()).toEqual([...keys].sort());
    expect(seen.every((c) => c.attempt === 1 && c.token > 0)).toBe(true);
  });

  it('dead-letters unparseable messages and unknown kinds with the reason, never acks them', async () => {
    const q = testQueue();
    const unknown = key();
    await q.producer.add('{not json');
    await q.producer.add(JSON.stringify({ v: 2, key: 'k', kind: 'noop' }));
    await q.producer.add(encodeEnvelope({ key: unknown, kind: 'no-such-kind' }));
    const hooked: DeadLetterInfo[] = [];
    startWorker(q, { handlers: { noop: async () => {} }, onDeadLetter: (i) => hooked.push(i) });
    await until(async () => (await q.deadLetters()).length === 3);
    const reasons = (await q.deadLetters()).map((d) => d.reason).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^terminal error: unknown job kind "no-such-kind"$/),
      expect.stringMatching(/^unparseable message: body is not JSON/),
      expect.stringMatching(/^unparseable message: unsupported envelope version 2/),
    ]);
    expect(hooked).toHaveLength(3);
    expect(await q.messages()).toHaveLength(0);
    // The unknown kind's job is failed for good in the ledger, with the reason: the outbox
    // sweeper counts it finished instead of sending it again.
    expect(await ledger.get(unknown)).toMatchObject({
      state: 'failed',
      lastError: 'terminal error: unknown job kind "no-such-kind"',
    });
  });

  it('retries a throwing handler with the ledger attempt, then dead-letters after the last attempt', async () => {
    const q = testQueue();
    const k = key();
    await q.producer.add(encodeEnvelope({ key: k, kind: 'flaky' }));
    const attempts: number[] = [];
    const hooked: DeadLetterInfo[] = [];
    startWorker(q, {
      handlers: {
        flaky: {
          maxAttempts: 3,
          handler: async ({ attempt }) => {
            attempts.push(attempt);
            throw new Error(`boom ${attempt}`);
          },
        },
      },
      onDeadLetter: (i) => hooked.push(i),
    });
    await until(async () => (await q.deadLetters()).length === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect((await q.deadLetters())[0]!.reason).toBe('failed after 3 attempts: boom 3');
    expect(hooked).toMatchObject([{ job: { key: k }, attempt: 3 }]);
    expect(await ledger.get(k)).toMatchObject({ state: 'failed', attempt: 3 });
    expect(await q.messages()).toHaveLength(0);
  });

  it('succeeds on a retry', async () => {
    const q = testQueue();
    const k = key();
    await q.producer.add(encodeEnvelope({ key: k, kind: 'flaky' }));
    startWorker(q, {
      handlers: {
        flaky: async ({ attempt }) => {
          if (attempt < 2) throw new Error('first time fails');
        },
      },
    });
    await until(async () => (await ledger.get(k))?.state === 'completed');
    expect((await ledger.get(k))?.attempt).toBe(2);
    await until(empty(q));
  });

  it('does not retry a terminal error', async () => {
    const q = testQueue();
    const k = key();
    await q.producer.add(encodeEnvelope({ key: k, kind: 'bad' }));
    let calls = 0;
    startWorker(q, {
      handlers: {
        bad: async () => {
          calls++;
          throw new TerminalJobError('invalid input');
        },
      },
    });
    await until(async () => (await q.deadLetters()).length === 1);
    expect(calls).toBe(1);
    expect((await q.deadLetters())[0]!.reason).toBe('terminal error: invalid input');
  });

  it('aborts a handler that hangs past its timeout, and abandons one that ignores the abort', async () => {
    const q = testQueue();
    const polite = key();
    const rude = key();
    await q.producer.addBatch([
      encodeEnvelope({ key: polite, kind: 'polite' }),
      encodeEnvelope({ key: rude, kind: 'rude' }),
    ]);
    const reasons: unknown[] = [];
    const rudeStarts: number[] = [];
    startWorker(q, {
      abortGraceMs: 100,
      handlers: {
        polite: {
          timeoutMs: 100,
          maxAttempts: 1,
          handler: ({ signal }) =>
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => {
                reasons.push(signal.reason);
                reject(signal.reason);
              }),
            ),
        },
        rude: {
          timeoutMs: 100,
          maxAttempts: 2,
          handler: ({ attempt }) => {
            rudeStarts.push(attempt);
            return new Promise(() => {}); // never settles, ignores its signal
          },
        },
      },
    });
    await until(async () => (await q.deadLetters()).length === 2);
    expect(isJobTimeoutError(reasons[0])).toBe(true);
    const byKey = new Map((await q.deadLetters()).map((d) => [JSON.parse(d.body).key as string, d.reason]));
    expect(byKey.get(polite)).toMatch(/failed after 1 attempts: job ran past its timeout of 100 ms/);
    expect(byKey.get(rude)).toMatch(/failed after 2 attempts: job ran past its timeout/);
    expect(rudeStarts).toEqual([1, 2]);
  });

  it('neither acks nor drops a message whose job runs elsewhere under a live lease', async () => {
    const q = testQueue();
    const k = key();
    const other = await ledger.tryAcquire(k, 'other-node', 60_000);
    if (!other.acquired) throw new Error('setup failed');
    await q.producer.add(encodeEnvelope({ key: k, kind: 'noop' }));
    let ran = 0;
    startWorker(q, {
      handlers: {
        noop: async () => {
          ran++;
        },
      },
    });
    await until(async () => (await q.messages())[0]?.delayed === true);
    const [parked, ...more] = await q.messages();
    expect(more).toHaveLength(0);
    expect(parked!.dueInMs).toBeGreaterThan(50_000);
    // The other owner finishes: the copy here is then a duplicate and is acked without running.
    await ledger.complete(k, other.lease.token);
    await q.expireDelays();
    await until(empty(q));
    expect(ran).toBe(0);
  });

  it('aborts the handler when its lease is lost and does not ack the message', async () => {
    const q = testQueue();
    const k = key();
    await q.producer.add(encodeEnvelope({ key: k, kind: 'slow' }));
    const started = deferred<AbortSignal>();
    startWorker(q, {
      handlers: {
        slow: {
          leaseMs: 60_000,
          handler: ({ signal }) => {
            started.resolve(signal);
            return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          },
        },
      },
    });
    const signal = await started.promise;
    await t.db.query(
      `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 second' WHERE job_key = $1`,
      [k],
    );
    const thief = await ledger.tryAcquire(k, 'thief', 60_000);
    expect(thief.acquired).toBe(true);
    await until(() => signal.aborted);
    expect(isLeaseLostError(signal.reason)).toBe(true);
    expect(await q.messages()).toMatchObject([{ held: true }]);
    expect((await ledger.get(k))?.owner).toBe('thief');
  });

  it('keeps at most `concurrency` handlers running under a large backlog', async () => {
    const q = testQueue();
    await q.producer.addBatch(
      Array.from({ length: 500 }, () => encodeEnvelope({ key: key(), kind: 'noop', payload: {} })),
    );
    let running = 0;
    let peak = 0;
    let maxHeld = 0;
    const { worker } = startWorker(q, {
      concurrency: 8,
      handlers: {
        noop: async () => {
          running++;
          peak = Math.max(peak, running);
          maxHeld = Math.max(maxHeld, worker.held());
          await new Promise((r) => setTimeout(r, 1));
          running--;
        },
      },
    });
    // A bound, not a speed: 3.4 s alone, 20 s beside other suites on this two-core machine.
    await until(empty(q), 80_000);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
    // Running + leased ahead (2x) + being completed (4x): bounded whatever the backlog.
    expect(maxHeld).toBeLessThanOrEqual(48);
  }, 90_000);

  it('drains on shutdown: finishes what ends in time, hands back what does not', async () => {
    const q = testQueue();
    const quick = key();
    const stuck = key();
    await q.producer.addBatch([
      encodeEnvelope({ key: quick, kind: 'quick' }),
      encodeEnvelope({ key: stuck, kind: 'stuck' }),
    ]);
    const release = deferred();
    const bothStarted = { quick: deferred(), stuck: deferred() };
    const { stop } = startWorker(q, {
      drainMs: 300,
      abortGraceMs: 100,
      handlers: {
        quick: async () => {
          bothStarted.quick.resolve();
          await release.promise;
        },
        stuck: ({ signal }) => {
          bothStarted.stuck.resolve();
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
      },
    });
    await Promise.all([bothStarted.quick.promise, bothStarted.stuck.promise]);
    const stopped = stop();
    setTimeout(() => release.resolve(), 50);
    await stopped;
    expect((await ledger.get(quick))?.state).toBe('completed');
    // Handed back without costing an attempt: the next lease is attempt 1 again.
    expect(await ledger.get(stuck)).toMatchObject({ state: 'pending', attempt: 0, lastError: null });
    expect(await q.messages()).toMatchObject([{ held: false, delayed: false }]);
  });
});
