import { coerceError } from '../job/logger.js';
import { logFields, type WorkerContext } from './context.js';
import { LeaseLostError } from './errors.js';
import { HEARTBEATED, type HeldJob } from './held-job.js';

/**
 * What a lost lease means depends on where the job stands WHEN the loss is known (the answer
 * of a heartbeat may arrive after the job moved on):
 * - leased, not started: it never starts;
 * - running: its handler is aborted and nothing is recorded for it;
 * - completing or settling: nothing to abort; the answer to the completion or the failure
 *   says whether it counted (it used to log "lease lost, aborting the job" for jobs that had
 *   just completed);
 * - anything later: nothing to do.
 */
function onLeaseLost(ctx: WorkerContext, h: HeldJob, why: string): void {
  switch (h.state) {
    case 'leased':
      ctx.logger.info({ ...logFields(h), why }, 'worker: prefetched lease lost; the job will not start here');
      returnLostLease(ctx, h, false);
      h.to('done');
      return;
    case 'running':
      h.to('aborted');
      ctx.logger.warn({ ...logFields(h), why }, 'worker: lease lost, aborting the job');
      h.execution?.controller.abort(new LeaseLostError(h.job.key));
      returnLostLease(ctx, h, true);
      return;
    default:
      return;
  }
}

/**
 * Hands a lease this live worker lost back to the ledger, uncounted, unless another worker took
 * it over meanwhile. The attempt limit refuses a job whose earlier attempts never reported back,
 * because their workers may have died of it; a worker that is here to say its lease ran out (an
 * overloaded host, a stalled event loop) did not, and that attempt must not fail the job: under
 * load, jobs were dead-lettered with "attempt 6 exceeds max attempts 5" and no error at all. A
 * job that keeps stalling its worker stays bounded by the delivery limit.
 */
export function returnLostLease(ctx: WorkerContext, h: HeldJob, started: boolean): void {
  const lease = h.lease;
  if (!lease) return;
  void ctx.ledger.returnLost([{ jobKey: h.job.key, token: lease.token }]).then(
    async (refused) => {
      if (refused.length > 0) return;
      ctx.logger.info(logFields(h), 'worker: lost lease given back uncounted');
      // A job that never started goes back on the queue at once, not a delivery: nothing was
      // tried. A started one is left to the reclaim, so its deliveries are counted.
      if (!started) await ctx.queue.release(h.delivery.id, 0, { unworked: true });
    },
    (err: unknown) =>
      ctx.logger.warn({ ...logFields(h), err: coerceError(err) }, 'worker: giving back a lost lease failed'),
  );
}

/**
 * One heartbeat: ONE statement extends every lease held (prefetched, running, completing and
 * settling jobs), then the messages' idle times are reset so that a long job is never reclaimed from a
 * live worker.
 */
export async function heartbeat(ctx: WorkerContext): Promise<void> {
  const { table, logger } = ctx;
  const leased = table.inState(HEARTBEATED).filter((h) => h.lease !== undefined);
  if (leased.length > 0) {
    const sentAt = Date.now();
    // The expiry is judged on a timer of its own, not after the statement: a statement stuck
    // on a blackholed connection must not keep a handler running past its lease while another
    // worker takes the job over.
    const expiry = expireOverdue(ctx, leased);
    try {
      const lost = new Set(
        await ctx.ledger.heartbeat(
          leased.map((h) => ({ jobKey: h.job.key, token: h.heldLease.token, leaseMs: h.reg.leaseMs })),
        ),
      );
      for (const h of leased) {
        if (lost.has(h.job.key)) onLeaseLost(ctx, h, 'the ledger refused the heartbeat');
        else h.renewedAt = sentAt;
      }
    } catch (err) {
      logger.warn({ err: coerceError(err), leases: leased.length }, 'worker: ledger heartbeat failed');
    } finally {
      expiry.stop();
    }
    expireOverdue(ctx, leased).stop();
  }
  const ids = table.all().map((h) => h.delivery.id);
  if (ids.length > 0) {
    await ctx.queue.touch(ids).catch((err: unknown) => {
      logger.warn({ err: coerceError(err) }, 'worker: touch failed');
    });
  }
}

/**
 * Treats every lease of `leased` not renewed for a whole lease period as lost (it has expired
 * on the database clock by now), then keeps checking, at the next one's expiry, until stopped.
 */
function expireOverdue(ctx: WorkerContext, leased: readonly HeldJob[]): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    const now = Date.now();
    let nextInMs = Number.POSITIVE_INFINITY;
    for (const h of leased) {
      if (h.state !== 'leased' && h.state !== 'running') continue;
      const leftMs = h.reg.leaseMs - (now - h.renewedAt);
      if (leftMs < 0) onLeaseLost(ctx, h, 'lease not renewed in time');
      else nextInMs = Math.min(nextInMs, leftMs + 1);
    }
    if (Number.isFinite(nextInMs)) {
      timer = setTimeout(check, nextInMs);
      timer.unref();
    }
  };
  check();
  return {
    stop: () => {
      clearTimeout(timer);
    },
  };
}
