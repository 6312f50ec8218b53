import { createHash } from 'node:crypto';
import { isTransientBackendError } from '../../backends/resilient.js';
import { isControlError, NameTakenError } from '../../control/errors.js';
import type { ResourceService } from '../../control/service.js';
import { isStaleFencingTokenError } from '../../core/errors/backend-errors.js';
import type { WebhookPort } from '../../core/ports/webhook.js';
import { coerceError } from '../../ha/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { isBulkheadRejectedError, isCircuitOpenError } from '../../ha/resilience/errors.js';
import { type CronJobSpecT, DEFAULT_TIME_ZONE } from '../../kinds/cron-jobs/index.js';
import { type ControllerDefinition, defineController, type PassContext } from '../framework/define.js';
import { planSlots } from './plan.js';
import {
  type CursorMove,
  finishSlot,
  isSlotRun,
  listCronJobs,
  type NewSlot,
  type PendingSlot,
  pendingSlots,
  recordSlots,
  type SlotOutcome,
  type SlotRequest,
} from './slots.js';

/** Options of {@link cronController}. */
export interface CronOptions {
  readonly leaderKey: LeaderKey;
  /** Where slots' calls go: the webhook port behind its resilience policies. */
  readonly webhook: WebhookPort;
  /** Slots of pipeline targets start their runs through it, inside the fence. */
  readonly service?: ResourceService;
  /** The longest wait between two passes; a pass also runs at each job's next slot. Default 10 s. */
  readonly resyncMs?: number;
  /** Slots recorded per job per pass, and pending calls made per pass. Default 100. */
  readonly batch?: number;
  /** Attempts at a call failing for a passing reason (unavailable, timed out) before the run fails. Default 5. */
  readonly maxAttempts?: number;
  /** Calls in flight at once (one job's slots always in order). Default 8. */
  readonly concurrency?: number;
}

/** What a job's slots do, recorded with each: the call, or the pipeline run. */
function requestOf(jobId: string, target: CronJobSpecT['target']): SlotRequest {
  const source = `cron-jobs/${jobId}`;
  if (target.pipeline !== undefined) return { pipeline: target.pipeline, source };
  return {
    method: target.method ?? 'GET',
    url: target.url ?? '',
    ...(target.body === undefined ? {} : { body: target.body }),
    source,
  };
}

/** The name of the run a slot starts: the same from every leader, unique per job and slot. */
export function slotRunName(jobId: string, slot: number): string {
  const job = createHash('sha256').update(jobId).digest('hex').slice(0, 10);
  return `cron-${job}-${Math.floor(slot / 1000).toString(36)}`;
}

/** The default resync of the cron controller. */
export const DEFAULT_CRON_RESYNC_MS = 10_000;

/**
 * The cron controller: each due slot of each cron job is recorded by a fenced write (one row
 * per job and slot) BEFORE its call, and the call carries `cron/<id>/<slot>` as its client
 * token and the term's epoch as its fencing token. A successor that finds a recorded slot
 * unfinished makes the same call again, which the backend delivers at most once; a slot is
 * never recorded twice (docs/controllers.md).
 */
export function cronController(options: CronOptions): ControllerDefinition {
  const batch = options.batch ?? 100;
  const maxAttempts = options.maxAttempts ?? 5;
  const concurrency = options.concurrency ?? 8;
  return defineController({
    name: 'cron',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? DEFAULT_CRON_RESYNC_MS,
    // A new, paused, resumed or rescheduled job is planned at once.
    wakeOnKinds: ['cron-jobs'],
    async pass(ctx) {
      const now = ctx.now();
      const termStart = ctx.term.acquiredAt.getTime();
      const planned = await ctx.fenced(async (tx) => {
        const jobs = await listCronJobs(tx);
        const slots: NewSlot[] = [];
        const moves: CursorMove[] = [];
        let more = false;
        let next: number | undefined;
        for (const job of jobs) {
          const plan = planSlots(
            { ...job.spec, createdAt: job.createdAt, updatedAt: job.updatedAt },
            job.cursor,
            now,
            termStart,
            batch,
          );
          const request = requestOf(job.id, job.spec.target);
          for (const f of plan.fire)
            slots.push({ jobId: job.id, tenant: job.tenant, slot: f.slot, caughtUp: f.caughtUp, request });
          moves.push({
            jobId: job.id,
            tenant: job.tenant,
            decidedTo: plan.decidedTo,
            schedule: job.spec.schedule,
            timeZone: job.spec.timeZone ?? DEFAULT_TIME_ZONE,
            paused: job.spec.paused === true,
            skipped: plan.skipped,
          });
          more ||= plan.more;
          if (plan.nextSlot !== undefined) next = Math.min(next ?? plan.nextSlot, plan.nextSlot);
        }
        await recordSlots(tx, slots, moves, ctx.epoch);
        return { more, next };
      });
      const pending = await pendingSlots(ctx.db, batch);
      const left = await deliverAll(ctx, options, pending, { maxAttempts, concurrency });
      // Lag: the age of the oldest slot whose call is still not done.
      const oldest = left.length === 0 ? undefined : Math.min(...left);
      return {
        more: planned.more || pending.length === batch,
        lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest),
        ...(planned.next === undefined ? {} : { nextInMs: planned.next - ctx.now() }),
      };
    },
  });
}

/** Calls the pending slots: one job's slots in order, up to `concurrency` jobs at once. */
async function deliverAll(
  ctx: PassContext,
  targets: Pick<CronOptions, 'webhook' | 'service'>,
  pending: readonly PendingSlot[],
  limits: { maxAttempts: number; concurrency: number },
): Promise<number[]> {
  const left: number[] = [];
  const byJob = new Map<string, PendingSlot[]>();
  for (const p of pending) byJob.set(p.jobId, [...(byJob.get(p.jobId) ?? []), p]);
  const queues = [...byJob.values()];
  let failure: Error | undefined;
  const worker = async () => {
    for (let q = queues.shift(); q !== undefined && failure === undefined; q = queues.shift())
      for (const slot of q) {
        if (ctx.signal.aborted || failure !== undefined) return;
        try {
          if ((await deliver(ctx, targets, slot, limits.maxAttempts)) === 'pending') left.push(slot.slot);
        } catch (err) {
          failure = coerceError(err);
        }
      }
  };
  await Promise.all(Array.from({ length: Math.min(limits.concurrency, queues.length) }, worker));
  if (failure) throw failure;
  return left;
}

/** A failure that may pass by itself: the slot stays pending and the next pass tries again. */
function passing(err: unknown): boolean {
  return isTransientBackendError(err) || isCircuitOpenError(err) || isBulkheadRejectedError(err);
}

/** One attempt at one slot's call, and its outcome recorded under the fence; returns the slot's state. */
async function deliver(
  ctx: PassContext,
  targets: Pick<CronOptions, 'webhook' | 'service'>,
  p: PendingSlot,
  maxAttempts: number,
): Promise<SlotOutcome['state']> {
  if (isSlotRun(p.request)) return startRun(ctx, targets.service, p, p.request.pipeline);
  const t0 = performance.now();
  let outcome: Omit<SlotOutcome, 'durationMs' | 'epoch'>;
  try {
    const result = await targets.webhook.deliver(p.request, {
      clientToken: p.clientToken,
      fencingToken: ctx.epoch,
      signal: ctx.signal,
    });
    outcome =
      result.status < 400
        ? { state: 'succeeded', httpStatus: result.status, error: undefined }
        : { state: 'failed', httpStatus: result.status, error: `the endpoint answered ${result.status}` };
  } catch (err) {
    // A newer term called for this job already: this one is over.
    if (isStaleFencingTokenError(err) || ctx.signal.aborted) throw err;
    const error = coerceError(err).message;
    outcome = {
      state: passing(err) && p.attempts + 1 < maxAttempts ? 'pending' : 'failed',
      httpStatus: undefined,
      error,
    };
  }
  const durationMs = performance.now() - t0;
  await ctx.fenced((tx) => finishSlot(tx, p.jobId, p.slot, { ...outcome, epoch: ctx.epoch, durationMs }));
  return outcome.state;
}

/**
 * A pipeline target's slot: the run is created and the slot marked succeeded in ONE fenced
 * transaction, so a slot starts exactly one run whatever happens to the leader (a crash before
 * the commit leaves neither; the successor does both). A refusal of the run (the pipeline gone
 * or being deleted) fails the slot with its reason.
 */
async function startRun(
  ctx: PassContext,
  service: ResourceService | undefined,
  p: PendingSlot,
  pipeline: string,
): Promise<SlotOutcome['state']> {
  const t0 = performance.now();
  const finish = (
    tx: Parameters<Parameters<PassContext['fenced']>[0]>[0],
    state: 'succeeded' | 'failed',
    error?: string,
  ) =>
    finishSlot(tx, p.jobId, p.slot, {
      state,
      httpStatus: undefined,
      error,
      epoch: ctx.epoch,
      durationMs: performance.now() - t0,
    });
  if (!service) {
    await ctx.fenced((tx) => finish(tx, 'failed', 'this process starts no pipeline runs'));
    return 'failed';
  }
  try {
    await ctx.fenced(async (tx) => {
      await service.create(
        p.tenant,
        'pipeline-runs',
        {
          name: slotRunName(p.jobId, p.slot),
          labels: { 'stratus.io/cron-job': p.jobId },
          spec: { pipeline, trigger: 'cron' },
        },
        { tx },
      );
      await finish(tx, 'succeeded');
    });
    service.wakeRelays();
    return 'succeeded';
  } catch (err) {
    if (ctx.signal.aborted || !isControlError(err)) throw err;
    // Started already (the name is the slot's): nothing more to do than record it.
    const why = err instanceof NameTakenError ? undefined : err.message;
    await ctx.fenced((tx) => finish(tx, why === undefined ? 'succeeded' : 'failed', why));
    return why === undefined ? 'succeeded' : 'failed';
  }
}
