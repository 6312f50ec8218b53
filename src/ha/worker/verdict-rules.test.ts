import { describe, expect, it } from 'vitest';
import { deferred, jobKey, recordingLogger, until, workerBench } from '../../../test/worker/harness.js';
import { encodeEnvelope } from '../job/envelope.js';
import type { ExecutionLedger } from '../ledger/port.js';
import { TerminalJobError } from './errors.js';
import type { DeadLetterInfo } from './types.js';

// The rules a held job's state machine enforces, each seen broken by an attack on the worker.
const bench = workerBench('postgres');

describe('worker verdicts', () => {
  it('never starts a prefetched job whose lease was lost', async () => {
    const q = bench.testQueue();
    const [a, b] = [jobKey(), jobKey()];
    const releaseA = deferred();
    const aStarted = deferred();
    const started: string[] = [];
    let lostHeartbeats = 0;
    const ledger: ExecutionLedger = {
      ...bench.ledger,
      async heartbeat(leases) {
        const lost = await bench.ledger.heartbeat(leases);
        if (lost.includes(b)) lostHeartbeats++;
        return lost;
      },
    };
    await q.producer.addBatch([
      encodeEnvelope({ key: a, kind: 'one' }),
      encodeEnvelope({ key: b, kind: 'one' }),
    ]);
    const { worker } = bench.startWorker(q, {
      ledger,
      handlers: {
        one: {
          concurrency: 1,
          leaseMs: 60_000,
          handler: async ({ job }) => {
            started.push(job.key);
            if (job.key === a) {
              aStarted.resolve();
              await releaseA.promise;
            }
          },
        },
      },
    });
    await aStarted.promise;
    // B is leased ahead while A runs; another owner takes B's lease over.
    await until(async () => (await bench.ledger.get(b))?.state === 'running');
    await bench.db.query(
      `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 second' WHERE job_key = $1`,
      [b],
    );
    expect((await bench.ledger.tryAcquire(b, 'thief', 60_000)).acquired).toBe(true);
    await until(() => lostHeartbeats > 0);
    releaseA.resolve();
    await until(async () => (await bench.ledger.get(a))?.state === 'completed' && worker.held() === 0);
    expect(started).toEqual([a]);
    expect((await bench.ledger.get(b))?.owner).toBe('thief');
  });

  it('runs a job again, without costing it an attempt, after its live worker lost the lease', async () => {
    const q = bench.testQueue({ visibilityTimeoutMs: 300 });
    const key = jobKey();
    const runs: number[] = [];
    await q.producer.addBatch([encodeEnvelope({ key, kind: 'one', maxAttempts: 1 })]);
    bench.startWorker(q, {
      handlers: {
        one: {
          leaseMs: 60_000,
          handler: async ({ attempt, signal }) => {
            runs.push(attempt);
            if (runs.length > 1) return;
            // The host stalls past the lease: nobody took it over, this worker is alive.
            await bench.db.query(
              `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 second' WHERE job_key = $1`,
              [key],
            );
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
            throw signal.reason;
          },
        },
      },
    });
    // With the lost lease counted, the second lease was attempt 2 of 1 and the job was
    // dead-lettered ("earlier attempts never finished") without any failure.
    await until(async () => (await bench.ledger.get(key))?.state === 'completed');
    expect(runs).toEqual([1, 1]);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('logs no lost lease for a job whose heartbeat answer comes after its completion', async () => {
    const q = bench.testQueue();
    const k = jobKey();
    const heartbeatSent = deferred();
    const completed = deferred();
    const ledger: ExecutionLedger = {
      ...bench.ledger,
      async heartbeat(leases) {
        if (!leases.some((l) => l.jobKey === k)) return bench.ledger.heartbeat(leases);
        heartbeatSent.resolve();
        await completed.promise; // the completion commits while this heartbeat is on its way
        return bench.ledger.heartbeat(leases);
      },
      async exchange(completions, requests, owner) {
        const result = await bench.ledger.exchange(completions, requests, owner);
        if (completions.some((c) => c.jobKey === k)) completed.resolve();
        return result;
      },
    };
    const { lines, logger } = recordingLogger();
    await q.producer.add(encodeEnvelope({ key: k, kind: 'quick' }));
    bench.startWorker(q, {
      ledger,
      logger,
      handlers: {
        quick: async () => {
          await heartbeatSent.promise;
        },
      },
    });
    await until(async () => (await q.messages()).length === 0);
    expect((await bench.ledger.get(k))?.state).toBe('completed');
    expect(lines.filter((l) => /lease lost/.test(l.msg))).toEqual([]);
  });

  it('hands a job back on drain without costing it an attempt, through five rolling restarts', async () => {
    const q = bench.testQueue();
    const k = jobKey();
    await q.producer.add(encodeEnvelope({ key: k, kind: 'long' }));
    const attempts: number[] = [];
    const hooked: DeadLetterInfo[] = [];
    for (let restart = 0; restart < 5; restart++) {
      const started = deferred();
      const { stop } = bench.startWorker(q, {
        drainMs: 20,
        abortGraceMs: 100,
        onDeadLetter: (i) => hooked.push(i),
        handlers: {
          long: {
            maxAttempts: 2,
            handler: ({ attempt, signal }) => {
              attempts.push(attempt);
              started.resolve();
              return new Promise((_, reject) =>
                signal.addEventListener('abort', () => reject(signal.reason)),
              );
            },
          },
        },
      });
      await started.promise;
      await stop();
      expect(await bench.ledger.get(k)).toMatchObject({ state: 'pending', attempt: 0 });
      expect(await q.messages()).toMatchObject([{ held: false, delayed: false, deliveries: 0 }]);
    }
    expect(attempts).toEqual([1, 1, 1, 1, 1]);
    expect(hooked).toEqual([]);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('reports a job failed for good once, whatever copies of it arrive later', async () => {
    const q = bench.testQueue();
    const k = jobKey();
    const body = encodeEnvelope({ key: k, kind: 'bad' });
    await q.producer.add(body);
    const hooked: DeadLetterInfo[] = [];
    bench.startWorker(q, {
      onDeadLetter: (i) => hooked.push(i),
      handlers: {
        bad: async () => {
          throw new TerminalJobError('invalid input');
        },
      },
    });
    await until(async () => (await q.deadLetters()).length === 1);
    await q.producer.addBatch([body, body, body]);
    await until(async () => {
      await q.expireDelays(); // a copy met while another is held comes back after a lease
      return (await q.messages()).length === 0;
    });
    expect(hooked.map((h) => [h.job?.key, h.reason])).toEqual([[k, 'terminal error: invalid input']]);
    // The copies were duplicates of a finished job: acked, not buried again.
    expect(await q.deadLetters()).toHaveLength(1);
  });

  it('reports a failure its worker recorded but died before reporting, from the next copy', async () => {
    const q = bench.testQueue();
    const k = jobKey();
    const lease = await bench.ledger.tryAcquire(k, 'died', 60_000);
    if (!lease.acquired) throw new Error('setup');
    await bench.ledger.fail(k, lease.lease.token, { retryable: false, error: 'boom' });
    const body = encodeEnvelope({ key: k, kind: 'any' });
    await q.producer.add(body);
    const hooked: DeadLetterInfo[] = [];
    bench.startWorker(q, { onDeadLetter: (i) => hooked.push(i), handlers: { any: async () => {} } });
    await until(async () => (await q.deadLetters()).length === 1);
    await q.producer.add(body);
    await until(async () => (await q.messages()).length === 0);
    expect(hooked.map((h) => [h.job?.key, h.reason])).toEqual([[k, 'job failed for good earlier: boom']]);
  });

  it('shares the jobs of a low-concurrency kind between two workers instead of hoarding them', async () => {
    const q = bench.testQueue();
    const ranOn = new Map<string, number>();
    const workMs = 250;
    const handler = (node: string) => async () => {
      ranOn.set(node, (ranOn.get(node) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, workMs)); // the job's own work time
    };
    for (const node of ['w1', 'w2']) {
      bench.startWorker(q, { nodeId: node, handlers: { slow: { concurrency: 1, handler: handler(node) } } });
    }
    const keys = Array.from({ length: 20 }, () => jobKey());
    await q.producer.addBatch(keys.map((key) => encodeEnvelope({ key, kind: 'slow' })));
    await until(async () => (await q.messages()).length === 0, 30_000);
    for (const key of keys) expect((await bench.ledger.get(key))?.state).toBe('completed');
    // One worker used to run all 20 (its room counted per worker, its hoard touched).
    expect(ranOn.get('w1')).toBeGreaterThanOrEqual(5);
    expect(ranOn.get('w2')).toBeGreaterThanOrEqual(5);
    // Shared, the 20 jobs take about half of their one-by-one time (measured alone: 2.9 s of
    // 5 s). Not asserted: on a loaded machine the time says more about the load than the split.
    // Handing back for lack of room is not a delivery: nothing crept toward the delivery limit.
    expect(await q.deadLetters()).toEqual([]);
  }, 40_000);

  it('runs the good jobs of a receive that carries a body no ledger row can hold', async () => {
    const q = bench.testQueue();
    const good = Array.from({ length: 4 }, () => jobKey());
    const nul = JSON.stringify({ v: 1, key: 'bad\u0000key', kind: 'noop', payload: null, enqueuedAt: 0 });
    const long = JSON.stringify({ v: 1, key: 'k'.repeat(3_000), kind: 'noop', payload: null, enqueuedAt: 0 });
    await q.producer.addBatch([
      encodeEnvelope({ key: good[0]!, kind: 'noop' }),
      nul,
      encodeEnvelope({ key: good[1]!, kind: 'noop' }),
      long,
      ...good.slice(2).map((key) => encodeEnvelope({ key, kind: 'noop' })),
    ]);
    const hooked: DeadLetterInfo[] = [];
    bench.startWorker(q, { onDeadLetter: (i) => hooked.push(i), handlers: { noop: async () => {} } });
    await until(async () => (await q.messages()).length === 0);
    for (const key of good) expect((await bench.ledger.get(key))?.state).toBe('completed');
    expect((await q.deadLetters()).map((d) => d.reason).sort()).toEqual([
      'unparseable message: job key contains the control character U+0000 at index 3',
      'unparseable message: job key is 3000 bytes long (at most 1024)',
    ]);
    expect(hooked).toHaveLength(2);
  });
});

describe('a worker serving a slow kind and a fast one', () => {
  it('keeps running the fast kind while the slow kind is full', async () => {
    const q = bench.testQueue();
    const slow = Array.from({ length: 30 }, () => jobKey());
    const fast = Array.from({ length: 30 }, () => jobKey());
    // The slow kind's messages come first in the queue: each receive meets them before the fast ones.
    await q.producer.addBatch([
      ...slow.map((key) => encodeEnvelope({ key, kind: 'slow' })),
      ...fast.map((key) => encodeEnvelope({ key, kind: 'fast' })),
    ]);
    const unblock = deferred();
    bench.startWorker(q, {
      concurrency: 4,
      handlers: {
        slow: { concurrency: 1, handler: () => unblock.promise },
        fast: async () => {},
      },
    });
    try {
      await until(async () => {
        for (const key of fast) if ((await bench.ledger.get(key))?.state !== 'completed') return false;
        return true;
      }, 20_000);
      // The slow kind held its room only (running + one leased ahead); the rest stayed in the
      // queue for any worker, never counted as deliveries.
      const rows = await q.messages();
      expect(rows.filter((r) => r.held)).toHaveLength(2);
      expect(rows.every((r) => r.deliveries <= 1)).toBe(true);
    } finally {
      unblock.resolve();
    }
  }, 30_000);
});
