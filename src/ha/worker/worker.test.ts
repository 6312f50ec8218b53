import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { migrate, readMigrations } from '../db/migrate.js';
import { createPgliteDatabase } from '../db/pglite.js';
import type { ExecutionLedger } from '../ledger/port.js';
import { createPostgresLedger } from '../ledger/postgres-ledger.js';
import { encodeEnvelope } from './envelope.js';
import { isJobTimeoutError, isLeaseLostError, TerminalJobError } from './errors.js';
import { createMemoryQueueBroker, type MemoryQueueBroker } from './testing/memory-queue.js';
import type { DeadLetterInfo, JobContext, WorkerOptions } from './types.js';
import { createWorker } from './worker.js';

/** Polls `check` until it holds, failing after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let db: Database;
let ledger: ExecutionLedger;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  db = await createPgliteDatabase();
  await migrate(db, readMigrations(new URL('../../migrations/', import.meta.url)));
  ledger = createPostgresLedger(db);
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});
afterAll(async () => {
  await db.close();
});

/** Starts a worker on `broker`, stopped after the test. Fast timings: the rules, not the defaults. */
function startWorker(
  broker: MemoryQueueBroker,
  options: Partial<WorkerOptions> & Pick<WorkerOptions, 'handlers'>,
) {
  const controller = new AbortController();
  const worker = createWorker({
    queue: broker.queue(options.nodeId ?? 'w1'),
    ledger,
    nodeId: 'w1',
    registry: new Registry(),
    heartbeatMs: 50,
    reclaimMs: 100,
    promoteMs: 20,
    receiveBlockMs: 50,
    random: () => 0,
    ...options,
  });
  const done = worker.start(controller.signal);
  const stop = async () => {
    controller.abort();
    await done;
  };
  stops.push(stop);
  return { worker, stop, done };
}

const key = () => `job-${randomUUID()}`;

describe('worker runtime', () => {
  it('completes in the ledger, then acks', async () => {
    const broker = createMemoryQueueBroker();
    const events: string[] = [];
    const producer = broker.queue('producer');
    const keys = [key(), key(), key()];
    await producer.addBatch(keys.map((k) => encodeEnvelope({ key: k, kind: 'noop' })));
    const tracingLedger: ExecutionLedger = {
      ...ledger,
      async exchange(completions, requests, owner) {
        if (completions.length > 0) events.push(`complete:${completions.length}`);
        return ledger.exchange(completions, requests, owner);
      },
    };
    const queue = broker.queue('w1');
    const ack = queue.ack.bind(queue);
    queue.ack = async (ids) => {
      events.push(`ack:${ids.length}`);
      return ack(ids);
    };
    const seen: JobContext[] = [];
    startWorker(broker, {
      queue,
      ledger: tracingLedger,
      handlers: {
        noop: async (ctx) => {
          seen.push(ctx);
        },
      },
    });
    await until(() => broker.messages().length === 0);
    for (const k of keys) expect((await ledger.get(k))?.state).toBe('completed');
    expect(events[0]).toMatch(/^complete:/);
    expect(events.indexOf(events.find((e) => e.startsWith('ack'))!)).toBeGreaterThan(0);
    expect(seen.map((c) => c.clientToken).sort()).toEqual([...keys].sort());
    expect(seen.every((c) => c.attempt === 1 && c.token > 0)).toBe(true);
  });

  it('dead-letters unparseable messages and unknown kinds with the reason, never acks them', async () => {
    const broker = createMemoryQueueBroker();
    const producer = broker.queue('producer');
    await producer.add('{not json');
    await producer.add(JSON.stringify({ v: 2, key: 'k', kind: 'noop' }));
    await producer.add(encodeEnvelope({ key: key(), kind: 'no-such-kind' }));
    const hooked: DeadLetterInfo[] = [];
    startWorker(broker, { handlers: { noop: async () => {} }, onDeadLetter: (i) => hooked.push(i) });
    await until(() => broker.deadLetters().length === 3);
    const reasons = broker.deadLetters().map((d) => d.reason);
    expect(reasons[0]).toMatch(/unparseable message: body is not JSON/);
    expect(reasons[1]).toMatch(/unsupported envelope version 2/);
    expect(reasons[2]).toMatch(/unknown job kind "no-such-kind"/);
    expect(hooked).toHaveLength(3);
    expect(broker.messages()).toHaveLength(0);
  });

  it('retries a throwing handler with the ledger attempt, then dead-letters after the last attempt', async () => {
    const broker = createMemoryQueueBroker();
    const k = key();
    await broker.queue('p').add(encodeEnvelope({ key: k, kind: 'flaky' }));
    const attempts: number[] = [];
    const hooked: DeadLetterInfo[] = [];
    startWorker(broker, {
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
    await until(() => broker.deadLetters().length === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(broker.deadLetters()[0]!.reason).toBe('failed after 3 attempts: boom 3');
    expect(hooked).toMatchObject([{ job: { key: k }, attempt: 3 }]);
    expect(await ledger.get(k)).toMatchObject({ state: 'failed', attempt: 3 });
    expect(broker.messages()).toHaveLength(0);
  });

  it('succeeds on a retry', async () => {
    const broker = createMemoryQueueBroker();
    const k = key();
    await broker.queue('p').add(encodeEnvelope({ key: k, kind: 'flaky' }));
    startWorker(broker, {
      handlers: {
        flaky: async ({ attempt }) => {
          if (attempt < 2) throw new Error('first time fails');
        },
      },
    });
    await until(async () => (await ledger.get(k))?.state === 'completed');
    expect((await ledger.get(k))?.attempt).toBe(2);
    await until(() => broker.messages().length === 0);
  });

  it('does not retry a terminal error', async () => {
    const broker = createMemoryQueueBroker();
    const k = key();
    await broker.queue('p').add(encodeEnvelope({ key: k, kind: 'bad' }));
    let calls = 0;
    startWorker(broker, {
      handlers: {
        bad: async () => {
          calls++;
          throw new TerminalJobError('invalid input');
        },
      },
    });
    await until(() => broker.deadLetters().length === 1);
    expect(calls).toBe(1);
    expect(broker.deadLetters()[0]!.reason).toBe('terminal error: invalid input');
  });

  it('aborts a handler that hangs past its timeout, and abandons one that ignores the abort', async () => {
    const broker = createMemoryQueueBroker();
    const polite = key();
    const rude = key();
    await broker
      .queue('p')
      .addBatch([
        encodeEnvelope({ key: polite, kind: 'polite' }),
        encodeEnvelope({ key: rude, kind: 'rude' }),
      ]);
    const reasons: unknown[] = [];
    const rudeStarts: number[] = [];
    startWorker(broker, {
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
    await until(() => broker.deadLetters().length === 2);
    expect(isJobTimeoutError(reasons[0])).toBe(true);
    const byKey = new Map(broker.deadLetters().map((d) => [JSON.parse(d.body).key as string, d.reason]));
    expect(byKey.get(polite)).toMatch(/failed after 1 attempts: job ran past its timeout of 100 ms/);
    expect(byKey.get(rude)).toMatch(/failed after 2 attempts: job ran past its timeout/);
    expect(rudeStarts).toEqual([1, 2]);
  });

  it('neither acks nor drops a message whose job runs elsewhere under a live lease', async () => {
    const broker = createMemoryQueueBroker();
    const k = key();
    const other = await ledger.tryAcquire(k, 'other-node', 60_000);
    if (!other.acquired) throw new Error('setup failed');
    await broker.queue('p').add(encodeEnvelope({ key: k, kind: 'noop' }));
    let ran = 0;
    startWorker(broker, {
      handlers: {
        noop: async () => {
          ran++;
        },
      },
    });
    await until(() => broker.messages()[0]?.state === 'delayed');
    expect(broker.messages()).toHaveLength(1);
    expect(broker.messages()[0]!.dueAt - Date.now()).toBeGreaterThan(50_000);
    // The other owner finishes: the copy here is then a duplicate and is acked without running.
    await ledger.complete(k, other.lease.token);
    broker.expireDelays();
    await until(() => broker.messages().length === 0);
    expect(ran).toBe(0);
  });

  it('aborts the handler when its lease is lost and does not ack the message', async () => {
    const broker = createMemoryQueueBroker();
    const k = key();
    await broker.queue('p').add(encodeEnvelope({ key: k, kind: 'slow' }));
    const started = deferred<AbortSignal>();
    startWorker(broker, {
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
    await db.query(
      `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 second' WHERE job_key = $1`,
      [k],
    );
    const thief = await ledger.tryAcquire(k, 'thief', 60_000);
    expect(thief.acquired).toBe(true);
    await until(() => signal.aborted);
    expect(isLeaseLostError(signal.reason)).toBe(true);
    expect(broker.messages()).toHaveLength(1);
    expect((await ledger.get(k))?.owner).toBe('thief');
  });

  it('keeps at most `concurrency` handlers running under a large backlog', async () => {
    const broker = createMemoryQueueBroker();
    await broker
      .queue('p')
      .addBatch(Array.from({ length: 500 }, () => encodeEnvelope({ key: key(), kind: 'noop', payload: {} })));
    let running = 0;
    let peak = 0;
    let maxHeld = 0;
    const { worker } = startWorker(broker, {
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
    await until(() => broker.messages().length === 0, 30_000);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
    // Running + leased ahead (2x) + being completed (1x): bounded whatever the backlog.
    expect(maxHeld).toBeLessThanOrEqual(24);
  });

  it('drains on shutdown: finishes what ends in time, hands back what does not', async () => {
    const broker = createMemoryQueueBroker();
    const quick = key();
    const stuck = key();
    await broker
      .queue('p')
      .addBatch([
        encodeEnvelope({ key: quick, kind: 'quick' }),
        encodeEnvelope({ key: stuck, kind: 'stuck' }),
      ]);
    const release = deferred();
    const bothStarted = { quick: deferred(), stuck: deferred() };
    const { stop } = startWorker(broker, {
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
    expect(await ledger.get(stuck)).toMatchObject({ state: 'pending', lastError: 'worker shut down' });
    expect(broker.messages()).toMatchObject([{ state: 'ready' }]);
  });
});
