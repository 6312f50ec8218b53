import { coerceError } from '../job/logger.js';
import type { AcquireResult } from '../ledger/port.js';
import { logFields, type WorkerContext } from './context.js';
import { type Execution, execute } from './execution.js';
import { returnLostLease } from './heartbeat.js';
import type { HeldJob } from './held-job.js';
import type { Verdicts } from './verdicts.js';

/**
 * Takes the leases of waiting jobs in batches and starts leased jobs while their kind has a
 * free handler slot. A kind may hold leases for up to twice its concurrency: the next batch is
 * leased while the current one runs; such prefetched leases are short (4 s), so after a crash
 * they come back in seconds.
 */
export function createLeasePump(ctx: WorkerContext, verdicts: Verdicts) {
  const { table, logger } = ctx;
  /** Failed lease batches in a row: the consume loop backs off while the ledger is unreachable. */
  let ledgerFailures = 0;

  function run(h: HeldJob): void {
    const lease = h.heldLease;
    h.to('running');
    const { job, reg } = h;
    const m = ctx.perKind(job.kind);
    m.started.inc();
    if (lease.attempt === 1 && job.enqueuedAt > 0) {
      m.dispatchLatency.observe(Math.max(0, Date.now() - job.enqueuedAt) / 1000);
    }
    logger.debug(logFields(h), 'job started');
    const startedAt = performance.now();
    const execution: Execution = execute(
      reg.handler,
      { job, attempt: lease.attempt, token: lease.token, clientToken: job.key },
      reg.timeoutMs,
      ctx.settings.abortGraceMs,
    );
    h.execution = execution;
    void execution.done
      .then((outcome) => {
        m.duration(outcome.kind).observe((performance.now() - startedAt) / 1000);
        // settle moves the job out of its slot at once; then the next can start.
        const settled = verdicts.settle(h, outcome);
        ctx.slotFreed.wake();
        kick();
        return settled;
      })
      .catch((err: unknown) =>
        logger.error({ err: coerceError(err), jobKey: job.key }, 'worker: settle failed'),
      );
  }

  /** Starts leased jobs while their kind has a free handler slot. */
  function startReady(): void {
    if (ctx.stopping) return; // the drain hands leased, unstarted jobs back
    for (const kind of table.kinds()) {
      const reg = ctx.handlers.get(kind)!;
      while (table.slotsInUse(kind) < reg.concurrency) {
        const h = table.nextLeased(kind);
        if (!h) break;
        if (Date.now() - h.renewedAt > h.reg.leaseMs - ctx.settings.heartbeatMs) {
          // Less than a heartbeat of its lease left (not renewed, the database unreachable): it
          // may be taken over before the next renewal could land. It never starts.
          logger.info(logFields(h), 'worker: prefetched lease expired before its start; not started');
          returnLostLease(ctx, h, false);
          h.to('done');
          continue;
        }
        run(h);
      }
    }
  }

  /** Checks a granted lease may run; otherwise fails the job for good. */
  function admissible(h: HeldJob): boolean {
    const lease = h.heldLease;
    const max = h.job.maxAttempts ?? h.reg.maxAttempts;
    if (lease.attempt > max) {
      // Earlier attempts never reported back (their workers died): the job may be what kills them.
      void verdicts.refuseToRun(
        h,
        `attempt ${lease.attempt} exceeds max attempts ${max}: earlier attempts never finished`,
      );
      return false;
    }
    const limit = ctx.settings.maxDeliveries;
    if (h.delivery.deliveries > limit) {
      // Handed out again and again, never acked: recorded in the ledger like any failure, so
      // the sweeper does not send it again and the hook hears of it.
      void verdicts.refuseToRun(
        h,
        `delivered ${h.delivery.deliveries - 1} times without an ack (limit ${limit})`,
      );
      return false;
    }
    return true;
  }

  /** One round: start what can start, then lease one batch of waiting jobs. */
  async function pump(): Promise<boolean> {
    startReady();
    if (ctx.stopping) return false;
    const batch: HeldJob[] = [];
    for (const kind of table.kinds()) {
      const reg = ctx.handlers.get(kind)!;
      while (table.leasesInUse(kind) < 2 * reg.concurrency) {
        const h = table.nextWaiting(kind);
        if (!h) break;
        h.to('acquiring');
        batch.push(h);
      }
    }
    if (batch.length === 0) return false;
    const sentAt = Date.now();
    let results: AcquireResult[];
    try {
      results = await ctx.batcher.acquire(batch.map((h) => ({ jobKey: h.job.key, leaseMs: h.reg.leaseMs })));
    } catch (err) {
      // Without the ledger nothing may run. Hand the messages back uncounted, after a pause
      // that grows with the outage: left to reclaim, every visibility timeout of a database
      // outage would count a delivery, and a 40 s failover would take every job in the queue
      // past the delivery limit without a single attempt. When the queue is unreachable too,
      // they come back by reclaim.
      const delayMs = Math.min(5_000, 250 * 2 ** Math.min(ledgerFailures, 5));
      await Promise.all(
        batch.map((h) =>
          ctx.queue
            .release(h.delivery.id, delayMs, { unworked: true })
            .catch(() => undefined)
            .finally(() => h.to('done')),
        ),
      );
      throw err;
    }
    const refused: HeldJob[] = [];
    batch.forEach((h, i) => {
      const r = results[i]!;
      if (r.acquired) {
        h.lease = r.lease;
        h.renewedAt = sentAt;
        h.to('leased');
        admissible(h);
      } else {
        h.refusal = r.refusal;
        h.to('settling');
        refused.push(h);
      }
    });
    startReady();
    await verdicts.refused(refused);
    return true;
  }

  /** Runs a round without waiting for it (lease requests that pile up share one statement). */
  function kick(): void {
    void pump().then(
      (took) => {
        if (took) ledgerFailures = 0;
      },
      (err: unknown) => {
        ledgerFailures++;
        logger.warn({ err: coerceError(err), failures: ledgerFailures }, 'worker: lease batch failed');
      },
    );
  }

  return { kick, startReady, ledgerFailures: () => ledgerFailures };
}

export type LeasePump = ReturnType<typeof createLeasePump>;
