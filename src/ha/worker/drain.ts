import { coerceError } from '../job/logger.js';
import type { WorkerContext } from './context.js';
import { WorkerShutdownError } from './errors.js';
import type { HeldJob, JobState } from './held-job.js';
import type { Verdicts } from './verdicts.js';

const UNSTARTED: ReadonlySet<JobState> = new Set(['waiting', 'leased']);
const STARTED: ReadonlySet<JobState> = new Set(['running', 'aborted']);

/** Gives back what never started: unleased messages at once, prefetched leases uncounted. */
async function handBackUnstarted(ctx: WorkerContext, verdicts: Verdicts): Promise<void> {
  const unstarted = ctx.table.inState(UNSTARTED);
  const unleased: HeldJob[] = [];
  const leased: HeldJob[] = [];
  for (const h of unstarted) (h.state === 'waiting' ? unleased : leased).push(h);
  for (const h of unleased) h.to('done');
  for (const h of leased) h.to('settling');
  await Promise.all([
    ...unleased.map((h) =>
      ctx.queue.release(h.delivery.id, 0, { unworked: true }).catch((err: unknown) => {
        ctx.logger.warn({ err: coerceError(err) }, 'worker: giving back a message failed');
      }),
    ),
    ...leased.map((h) => verdicts.handBack(h)),
  ]);
}

/**
 * On shutdown: stop starting, hand back what never started, let running jobs finish until the
 * drain deadline, then abort them and hand them back — none of it costs the job an attempt.
 */
export async function drain(ctx: WorkerContext, verdicts: Verdicts): Promise<void> {
  const { table, settings, logger } = ctx;
  ctx.stopping = true;
  await handBackUnstarted(ctx, verdicts);
  const deadline = Date.now() + settings.drainMs;
  while (table.inState(STARTED).length > 0 || table.inState(new Set(['acquiring'])).length > 0) {
    if (Date.now() >= deadline) break;
    await ctx.slotFreed.wait(Math.min(100, deadline - Date.now()));
    await handBackUnstarted(ctx, verdicts); // leases a batch in flight took after the drain began
  }
  const late = table.inState(new Set(['running']));
  if (late.length > 0) logger.warn({ jobs: late.length }, 'worker: drain deadline passed, releasing jobs');
  for (const h of late) h.execution?.controller.abort(new WorkerShutdownError());
  const giveUp = Date.now() + settings.abortGraceMs + 2_000;
  while (table.size > 0 && Date.now() < giveUp) {
    await ctx.slotFreed.wait(Math.min(100, giveUp - Date.now()));
    await handBackUnstarted(ctx, verdicts);
  }
  await verdicts.flushed();
  if (table.size > 0)
    logger.warn({ jobs: table.size }, 'worker: stopped with messages still held; reclaim returns them');
}
