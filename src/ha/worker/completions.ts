import { coerceError } from '../job/logger.js';
import { delay } from '../job/wake.js';
import { logFields, type WorkerContext } from './context.js';
import type { HeldJob } from './held-job.js';

/** Most rows per complete statement. */
const COMPLETE_BATCH = 500;

/**
 * Completion of succeeded jobs: ledger complete first, then ack, both batched (the complete
 * shares a statement with pending lease requests, see LedgerBatcher). Nothing is acknowledged
 * before the ledger recorded it.
 */
export function createCompletions(ctx: WorkerContext) {
  const { queue, logger } = ctx;
  const pending: HeldJob[] = [];
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    // Lets every handler that settles in this turn of the event loop join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let failures = 0;
    while (pending.length > 0) {
      const batch = pending.splice(0, COMPLETE_BATCH);
      let refused: string[];
      try {
        refused = await ctx.batcher.complete(
          batch.map((h) => ({ jobKey: h.job.key, token: h.heldLease.token })),
        );
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err: coerceError(err), jobs: batch.length, failures }, 'worker: complete failed');
        if (failures < 5) {
          // The leases are still heartbeated: try again shortly rather than re-run the jobs.
          pending.unshift(...batch);
          await delay(100 * 2 ** failures);
          continue;
        }
        refused = batch.map((h) => h.job.key);
      }
      const refusedKeys = new Set(refused);
      const done = batch.filter((h) => !refusedKeys.has(h.job.key));
      for (const h of batch) {
        if (refusedKeys.has(h.job.key)) {
          logger.warn(
            logFields(h),
            'worker: complete refused (lease lost); the message is left to its next holder',
          );
        }
      }
      if (done.length > 0) {
        await queue.ack(done.map((h) => h.delivery.id)).catch((err: unknown) => {
          // Completed in the ledger: a redelivery is acked as a duplicate.
          logger.warn({ err: coerceError(err), jobs: done.length }, 'worker: ack failed');
        });
      }
      for (const h of done) {
        ctx.perKind(h.job.kind).succeeded.inc();
        logger.debug(logFields(h), 'job completed');
      }
      for (const h of batch) h.to('done');
    }
  }

  function schedule(): void {
    flushing ??= flush().finally(() => {
      flushing = undefined;
      if (pending.length > 0) schedule();
    });
  }

  return {
    /** Queues a job whose handler succeeded (it moves to `completing`). */
    add(h: HeldJob): void {
      h.to('completing');
      pending.push(h);
      schedule();
    },
    /** Resolves when no completion is in flight. */
    async flushed(): Promise<void> {
      while (flushing) await flushing;
    },
  };
}
