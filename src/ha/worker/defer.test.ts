import { describe, expect, it } from 'vitest';
import { jobKey, type Transport, until, workerBench } from '../../../test/worker/harness.js';
import { enqueue } from '../outbox/outbox.js';
import { createOutboxRelay } from '../outbox/relay.js';
import { DeferJobError } from './errors.js';
import type { DeadLetterInfo } from './types.js';

const transports: Transport[] = ['postgres', 'redis'];

describe.each(transports)('a deferred job on the %s queue', (transport) => {
  const bench = workerBench(transport);

  it('spends no attempt while it defers, and runs once its dependency is there', async () => {
    const q = bench.testQueue({ visibilityTimeoutMs: 10_000 });
    const k = jobKey();
    await bench.db.transaction((tx) => enqueue(tx, { key: k, kind: 'waits', maxAttempts: 2 }));
    expect(await createOutboxRelay({ db: bench.db, queue: q.producer }).dispatchOnce()).toBe(1);
    const attempts: number[] = [];
    const hooked: DeadLetterInfo[] = [];
    bench.startWorker(q, {
      maxDeliveries: 2,
      onDeadLetter: (i) => hooked.push(i),
      handlers: {
        // Six runs find the dependency missing: more than maxAttempts and maxDeliveries allow.
        waits: async ({ attempt }) => {
          attempts.push(attempt);
          if (attempts.length <= 6) throw new DeferJobError(10, 'network not ready yet');
        },
      },
    });
    await until(async () => (await bench.ledger.get(k))?.state === 'completed', 20_000);
    // Every run was the first attempt: deferring released the lease without counting it.
    expect(attempts).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(hooked).toEqual([]);
    expect(await q.deadLetters()).toHaveLength(0);
  });

  it('fails the job like any error when the handler throws a plain one (the check above can fail)', async () => {
    const q = bench.testQueue({ visibilityTimeoutMs: 10_000 });
    const k = jobKey();
    await bench.db.transaction((tx) => enqueue(tx, { key: k, kind: 'fails', maxAttempts: 2 }));
    expect(await createOutboxRelay({ db: bench.db, queue: q.producer }).dispatchOnce()).toBe(1);
    const attempts: number[] = [];
    bench.startWorker(q, {
      handlers: {
        fails: async ({ attempt }) => {
          attempts.push(attempt);
          throw new Error('network not ready yet');
        },
      },
    });
    await until(async () => (await bench.ledger.get(k))?.state === 'failed', 20_000);
    expect(attempts).toEqual([1, 2]);
  });
});
