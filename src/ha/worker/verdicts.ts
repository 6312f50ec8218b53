import type { JobEnvelope } from '../job/envelope.js';
import { coerceError } from '../job/logger.js';
import { isStaleLeaseError } from '../ledger/errors.js';
import type { Delivery } from '../queue/port.js';
import { fullJitterBackoff } from './backoff.js';
import { createCompletions } from './completions.js';
import { logFields, type WorkerContext } from './context.js';
import { isDeferJobError, isTerminalJobError, isWorkerShutdownError } from './errors.js';
import type { ExecutionOutcome } from './execution.js';
import type { HeldJob } from './held-job.js';
import type { DeadLetterInfo } from './types.js';

/** A redelivery of a job held elsewhere comes back this long after that lease would end. */
const REDELIVERY_MARGIN_MS = 250;

/**
 * What happens to a held job once its fate is known: completion, delayed retry, dead letter,
 * hand-back on drain, or the handling of a refused lease. Every terminal outcome is recorded in
 * the ledger before the message is acknowledged or dead-lettered, and reported to
 * `onDeadLetter` once per job (the ledger records that it was).
 */
export function createVerdicts(ctx: WorkerContext) {
  const { ledger, queue, logger } = ctx;
  const completions = createCompletions(ctx);

  async function callHook(info: DeadLetterInfo): Promise<void> {
    try {
      await ctx.onDeadLetter?.(info);
    } catch (err) {
      logger.error({ err: coerceError(err), jobKey: info.job?.key }, 'worker: onDeadLetter hook failed');
    }
  }

  /** Reports a failure recorded in the ledger, then records that it was reported. */
  async function report(info: DeadLetterInfo & { job: JobEnvelope }): Promise<void> {
    await callHook(info);
    // At least once: a crash between the hook and this line reports again from the next copy.
    await ledger.markReported(info.job.key).catch((err: unknown) => {
      logger.warn({ err: coerceError(err), jobKey: info.job.key }, 'worker: recording the report failed');
    });
  }

  /** Dead-letters a message that is no job at all (unparseable, invalid key): no ledger row can exist. */
  async function deadLetterMessage(d: Delivery, job: JobEnvelope | undefined, reason: string): Promise<void> {
    await callHook({ messageId: d.id, job, reason, attempt: undefined });
    await queue.deadLetter(d.id, reason);
    ctx.perKind(job?.kind ?? 'unparseable').deadLettered.inc();
    logger.error({ messageId: d.id, jobKey: job?.key, reason }, 'worker: message dead-lettered');
  }

  /** Records the job failed for good under its lease, reports it, then dead-letters its message. */
  async function deadLetterJob(h: HeldJob, reason: string): Promise<void> {
    const lease = h.heldLease;
    try {
      await ledger.fail(h.job.key, lease.token, { retryable: false, error: reason });
      await report({ messageId: h.delivery.id, job: h.job, reason, attempt: lease.attempt });
      await queue.deadLetter(h.delivery.id, reason);
      ctx.perKind(h.job.kind).deadLettered.inc();
      logger.error({ ...logFields(h), reason }, 'job dead-lettered');
    } catch (err) {
      // Stale lease: someone else owns the job now. Anything else: the message stays pending
      // and is reclaimed; the ledger tells its next holder what is left to do.
      logger.warn({ ...logFields(h), err: coerceError(err) }, 'worker: dead-lettering did not finish');
    } finally {
      h.to('done');
    }
  }

  /** Records a failed attempt and schedules the retry after a full-jitter backoff. */
  async function retryLater(h: HeldJob, error: Error): Promise<void> {
    const lease = h.heldLease;
    const retryInMs = fullJitterBackoff(lease.attempt, h.reg.backoff, ctx.random);
    try {
      await ledger.fail(h.job.key, lease.token, { retryable: true, retryInMs, error: error.message });
      // The attempt is counted in the ledger; the delivery limit is for deliveries that never
      // reached a verdict (a worker that died on them), so this one is not counted there too.
      await queue.release(h.delivery.id, retryInMs, { unworked: true });
      ctx.perKind(h.job.kind).retried.inc();
      logger.warn({ ...logFields(h), err: error, retryInMs }, 'job failed, retry scheduled');
    } catch (err) {
      if (!isStaleLeaseError(err)) {
        logger.warn(
          { ...logFields(h), err: coerceError(err) },
          'worker: scheduling the retry did not finish',
        );
      }
    } finally {
      h.to('done');
    }
  }

  /**
   * On a drain: the lease is released WITHOUT counting an attempt and the message goes back at
   * once without counting a delivery. A rolling restart is not the job's failure: five of them
   * used to dead-letter a long job.
   */
  async function handBack(h: HeldJob): Promise<void> {
    try {
      const refused = await ledger.release([{ jobKey: h.job.key, token: h.heldLease.token }]);
      if (refused.length > 0) {
        logger.warn(
          logFields(h),
          'worker: hand-back refused (lease lost); the message is left to its next holder',
        );
      } else {
        await queue.release(h.delivery.id, 0, { unworked: true });
      }
    } catch (err) {
      logger.warn({ ...logFields(h), err: coerceError(err) }, 'worker: hand-back on shutdown did not finish');
    } finally {
      h.to('done');
    }
  }

  /**
   * A handler that deferred (DeferJobError): like a hand-back, the lease is released without
   * counting an attempt, and the message comes back after the delay the handler asked for.
   */
  async function deferLater(h: HeldJob, delayMs: number, reason: string): Promise<void> {
    try {
      const refused = await ledger.release([{ jobKey: h.job.key, token: h.heldLease.token }]);
      if (refused.length === 0) {
        await queue.release(h.delivery.id, delayMs, { unworked: true });
        ctx.perKind(h.job.kind).deferred.inc();
        logger.debug({ ...logFields(h), delayMs, reason }, 'job deferred');
      }
    } catch (err) {
      logger.warn({ ...logFields(h), err: coerceError(err) }, 'worker: deferring the job did not finish');
    } finally {
      h.to('done');
    }
  }

  /** Fails for good a job whose lease was granted but which must not run (attempts, deliveries). */
  function refuseToRun(h: HeldJob, reason: string): Promise<void> {
    h.to('settling');
    return deadLetterJob(h, reason);
  }

  /** Applies the outcome of a handler run; the job leaves its slot before this returns. */
  function settle(h: HeldJob, outcome: ExecutionOutcome): Promise<void> {
    if (h.state === 'aborted') {
      // Another worker may hold the job now: no complete, no ack, no release.
      logger.warn(logFields(h), 'worker: job stopped after its lease was lost');
      h.to('done');
      return Promise.resolve();
    }
    if (outcome.kind === 'succeeded') {
      completions.add(h);
      return Promise.resolve();
    }
    h.to('settling');
    const error = outcome.kind === 'failed' ? outcome.error : outcome.reason;
    if (outcome.kind === 'abandoned') {
      logger.error(
        { ...logFields(h), err: error },
        'worker: handler ignored its abort signal; abandoned (its fencing token is now stale)',
      );
    }
    if (ctx.stopping && isWorkerShutdownError(h.execution?.controller.signal.reason)) return handBack(h);
    if (outcome.kind === 'failed' && isDeferJobError(error))
      return deferLater(h, error.delayMs, error.message);
    ctx.perKind(h.job.kind).failed.inc();
    const max = h.job.maxAttempts ?? h.reg.maxAttempts;
    const attempt = h.heldLease.attempt;
    if (isTerminalJobError(error)) return deadLetterJob(h, `terminal error: ${error.message}`);
    if (attempt >= max) return deadLetterJob(h, `failed after ${attempt} attempts: ${error.message}`);
    return retryLater(h, error);
  }

  /** Handles jobs whose lease was refused (moved to `settling`); never acks a job that is not finished. */
  async function refused(list: readonly HeldJob[]): Promise<void> {
    const acks: HeldJob[] = [];
    const work: Promise<unknown>[] = [];
    for (const h of list) {
      const r = h.refusal!;
      const d = h.delivery;
      if (r.kind === 'completed') acks.push(h);
      else if (r.kind === 'failed') {
        if (r.reported)
          acks.push(h); // a duplicate of a job already reported: once per job
        else {
          // Recorded failed but never reported (its worker died in between): report it now.
          const reason = `job failed for good earlier: ${r.error ?? 'unknown'}`;
          work.push(
            report({ messageId: d.id, job: h.job, reason, attempt: undefined })
              .then(() => queue.deadLetter(d.id, reason))
              .finally(() => h.to('done')),
          );
        }
      } else if (r.kind === 'invalid') {
        work.push(deadLetterMessage(d, h.job, r.reason).finally(() => h.to('done')));
      } else {
        // Held elsewhere, or a retry is scheduled: come back when that ends, never sooner. Not
        // counted as a delivery: nothing was tried (a long job's copy would otherwise reach the
        // delivery limit while the job runs).
        work.push(
          queue
            .release(d.id, r.remainingMs + REDELIVERY_MARGIN_MS, { unworked: true })
            .finally(() => h.to('done')),
        );
      }
    }
    if (acks.length > 0) {
      work.push(
        queue.ack(acks.map((h) => h.delivery.id)).finally(() => {
          for (const h of acks) h.to('done');
        }),
      );
    }
    const results = await Promise.allSettled(work);
    for (const r of results) {
      if (r.status === 'rejected') {
        logger.warn({ err: coerceError(r.reason) }, 'worker: handling a refused lease did not finish');
      }
    }
  }

  return {
    deadLetterMessage,
    refuseToRun,
    handBack,
    settle,
    refused,
    flushed: () => completions.flushed(),
  };
}

export type Verdicts = ReturnType<typeof createVerdicts>;
