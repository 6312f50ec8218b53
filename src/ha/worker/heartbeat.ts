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
    }
    // Not renewed for a whole lease: it has expired on the database clock by now.
    for (const h of leased) {
      if (Date.now() - h.renewedAt > h.reg.leaseMs) onLeaseLost(ctx, h, 'lease not renewed in time');
    }
  }
  const ids = table.all().map((h) => h.delivery.id);
  if (ids.length > 0) {
    await ctx.queue.touch(ids).catch((err: unknown) => {
      logger.warn({ err: coerceError(err) }, 'worker: touch failed');
    });
  }
}
