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
      h.to('done');
      return;
    case 'running':
      h.to('aborted');
      ctx.logger.warn({ ...logFields(h), why }, 'worker: lease lost, aborting the job');
      h.execution?.controller.abort(new LeaseLostError(h.job.key));
      return;
    default:
      return;
  }
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
