import { describe, expect, it } from 'vitest';
import { deferred, jobKey, workerBench } from '../../../test/worker/harness.js';
import { encodeEnvelope } from '../job/envelope.js';
import type { ExecutionLedger } from '../ledger/port.js';
import { isLeaseLostError } from './errors.js';

const bench = workerBench('postgres');

describe('worker heartbeat', () => {
  it('aborts a running job at its lease end while the heartbeat statement hangs', async () => {
    const q = bench.testQueue();
    const k = jobKey();
    const hung = deferred<string[]>();
    let heartbeats = 0;
    // The first heartbeat goes through; every later one hangs, as on a blackholed connection.
    const ledger: ExecutionLedger = {
      ...bench.ledger,
      heartbeat: (leases) => (++heartbeats === 1 ? bench.ledger.heartbeat(leases) : hung.promise),
    };
    await q.producer.addBatch([encodeEnvelope({ key: k, kind: 'long' })]);
    const aborted = deferred<unknown>();
    let startedAt = 0;
    bench.startWorker(q, {
      ledger,
      abortGraceMs: 50,
      handlers: {
        long: {
          leaseMs: 600,
          handler: ({ signal }) =>
            new Promise<void>((_, reject) => {
              startedAt = Date.now();
              signal.addEventListener('abort', () => {
                aborted.resolve(signal.reason);
                reject(signal.reason);
              });
            }),
        },
      },
    });
    const reason = await aborted.promise;
    expect(isLeaseLostError(reason)).toBe(true);
    expect(heartbeats).toBeGreaterThanOrEqual(2);
    // Within its lease (600 ms) plus a margin for a loaded machine, not when the network heals.
    expect(Date.now() - startedAt).toBeLessThan(600 + 1_500);
    hung.resolve([]);
  });
});
