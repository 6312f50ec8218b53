import { isStaleLeaseError } from '../ledger/errors.js';
import type { AcquireRefusal, ExecutionLedger, HeldLease, Lease } from '../ledger/port.js';
import type { Delivery, QueueAdmin, QueueConsumer } from '../queue/port.js';
import { fullJitterBackoff } from './backoff.js';
import type { JobEnvelope } from '../job/envelope.js';
import { isTerminalJobError, isWorkerShutdownError } from './errors.js';
import type { Execution, ExecutionOutcome } from './execution.js';
import { coerceError, type JobLogger } from '../job/logger.js';
import type { KindMetrics } from './metrics.js';
import type { ResolvedHandler } from './registrations.js';
import type { DeadLetterInfo } from './types.js';
import { delay } from '../job/wake.js';

/** One message a worker holds, from receipt to its verdict. */
export interface Held {
  readonly delivery: Delivery;
  readonly job: JobEnvelope;
  readonly reg: ResolvedHandler;
  phase: 'waiting' | 'acquiring' | 'leased' | 'running' | 'completing';
  lease?: Lease;
  /** Local time the last successful lease renewal was SENT (a lower bound of the lease's start). */
  renewedAt: number;
  lost: boolean;
  execution?: Execution;
  refusal?: AcquireRefusal;
}

export interface VerdictDeps {
  ledger: ExecutionLedger;
  /** Completes a batch (grouped with lease requests); resolves with the refused keys. */
  complete: (leases: readonly HeldLease[]) => Promise<string[]>;
  queue: QueueConsumer & Pick<QueueAdmin, 'stats'>;
  logger: JobLogger;
  metrics: (kind: string) => KindMetrics;
  forget: (h: Held) => void;
  onDeadLetter: ((info: DeadLetterInfo) => unknown) | undefined;
  random: () => number;
  isStopping: () => boolean;
  onCompleted: () => void;
}

/** A redelivery of a job held elsewhere comes back this long after that lease would end. */
const REDELIVERY_MARGIN_MS = 250;
/** Most rows per complete statement. */
const COMPLETE_BATCH = 500;

/**
 * What happens to a message once its fate is known: completion (ledger first, then ack, both
 * batched), delayed retry, dead letter, or hand-back on shutdown. Nothing is acknowledged
 * before the ledger recorded it.
 */
export function createVerdicts(deps: VerdictDeps) {
  const { ledger, queue, logger, metrics, forget } = deps;
  const completions: Held[] = [];
  let completing = 0;
  let flushing: Promise<void> | undefined;

  const logFields = (h: Held) => ({ jobKey: h.job.key, attempt: h.lease?.attempt, kind: h.job.kind });

  async function callHook(info: DeadLetterInfo): Promise<void> {
    try {
      await deps.onDeadLetter?.(info);
    } catch (err) {
      logger.error({ err: coerceError(err), jobKey: info.job?.key }, 'worker: onDeadLetter hook failed');
    }
  }

  /** Dead-letters a message that is not a runnable job (unparseable, unknown kind, failed before). */
  async function deadLetterMessage(d: Delivery, job: JobEnvelope | undefined, reason: string): Promise<void> {
    await callHook({ messageId: d.id, job, reason, attempt: undefined });
    await queue.deadLetter(d.id, reason);
    metrics(job?.kind ?? 'unparseable').deadLettered.inc();
    logger.error({ messageId: d.id, jobKey: job?.key, reason }, 'worker: message dead-lettered');
  }

  /** Records the job failed for good, tells the hook, then dead-letters its message. */
  async function deadLetterJob(h: Held, reason: string): Promise<void> {
    try {
      await ledger.fail(h.job.key, h.lease!.token, { retryable: false, error: reason });
      await callHook({ messageId: h.delivery.id, job: h.job, reason, attempt: h.lease!.attempt });
      await queue.deadLetter(h.delivery.id, reason);
      metrics(h.job.kind).deadLettered.inc();
      logger.error({ ...logFields(h), reason }, 'job dead-lettered');
    } catch (err) {
      // Stale lease: someone else owns the job now. Anything else: the message stays pending
      // and is reclaimed; the ledger tells its next holder what is left to do.
      logger.warn({ ...logFields(h), err: coerceError(err) }, 'worker: dead-lettering did not finish');
    } finally {
      forget(h);
    }
  }

  /** Records a failed attempt and schedules the retry after a full-jitter backoff. */
  async function retryLater(h: Held, error: Error): Promise<void> {
    const attempt = h.lease!.attempt;
    const retryInMs = fullJitterBackoff(attempt, h.reg.backoff, deps.random);
    try {
      await ledger.fail(h.job.key, h.lease!.token, { retryable: true, retryInMs, error: error.message });
      await queue.release(h.delivery.id, retryInMs);
      metrics(h.job.kind).retried.inc();
      logger.warn({ ...logFields(h), err: error, retryInMs }, 'job failed, retry scheduled');
    } catch (err) {
      if (!isStaleLeaseError(err)) {
        logger.warn(
          { ...logFields(h), err: coerceError(err) },
          'worker: scheduling the retry did not finish',
        );
      }
    } finally {
      forget(h);
    }
  }

  /** On shutdown: the lease ends now and the message goes back at once (no backoff). */
  async function handBack(h: Held): Promise<void> {
    try {
      await ledger.fail(h.job.key, h.lease!.token, {
        retryable: true,
        retryInMs: 0,
        error: 'worker shut down',
      });
      await queue.release(h.delivery.id, 0);
    } catch (err) {
      logger.warn({ ...logFields(h), err: coerceError(err) }, 'worker: hand-back on shutdown did not finish');
    } finally {
      forget(h);
    }
  }

  async function flush(): Promise<void> {
    // Lets every handler that settles in this turn of the event loop join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let failures = 0;
    while (completions.length > 0) {
      const batch = completions.splice(0, COMPLETE_BATCH);
      let refused: string[];
      try {
        refused = await deps.complete(batch.map((h) => ({ jobKey: h.job.key, token: h.lease!.token })));
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err: coerceError(err), jobs: batch.length, failures }, 'worker: complete failed');
        if (failures < 5) {
          // The leases are still heartbeated: try again shortly rather than re-run the jobs.
          completions.unshift(...batch);
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
        metrics(h.job.kind).succeeded.inc();
        logger.debug(logFields(h), 'job completed');
      }
      completing -= batch.length;
      for (const h of batch) forget(h);
      deps.onCompleted();
    }
  }

  function scheduleFlush(): void {
    flushing ??= flush().finally(() => {
      flushing = undefined;
      if (completions.length > 0) scheduleFlush();
    });
  }

  return {
    deadLetterMessage,
    deadLetterJob,
    /** Messages whose handler succeeded and whose completion is not recorded yet. */
    completing: () => completing,
    /** Resolves when no completion is in flight. */
    async flushed(): Promise<void> {
      while (flushing) await flushing;
    },

    /** Applies the outcome of a handler run. */
    async settle(h: Held, outcome: ExecutionOutcome): Promise<void> {
      if (h.lost) {
        // Another worker may hold the job now: no complete, no ack, no release.
        logger.warn(logFields(h), 'worker: job stopped after its lease was lost');
        forget(h);
        return;
      }
      if (outcome.kind === 'succeeded') {
        h.phase = 'completing';
        completing++;
        completions.push(h);
        scheduleFlush();
        return;
      }
      const error = outcome.kind === 'failed' ? outcome.error : outcome.reason;
      if (outcome.kind === 'abandoned') {
        logger.error(
          { ...logFields(h), err: error },
          'worker: handler ignored its abort signal; abandoned (its fencing token is now stale)',
        );
      }
      if (deps.isStopping() && isWorkerShutdownError(h.execution?.controller.signal.reason)) {
        await handBack(h);
        return;
      }
      metrics(h.job.kind).failed.inc();
      const max = h.job.maxAttempts ?? h.reg.maxAttempts;
      if (isTerminalJobError(error)) await deadLetterJob(h, `terminal error: ${error.message}`);
      else if (h.lease!.attempt >= max) {
        await deadLetterJob(h, `failed after ${h.lease!.attempt} attempts: ${error.message}`);
      } else await retryLater(h, error);
    },

    /** Handles messages whose lease was refused; never acks a job that is not finished. */
    async refused(list: readonly Held[]): Promise<void> {
      const acks: string[] = [];
      const work: Promise<unknown>[] = [];
      for (const h of list) {
        const r = h.refusal!;
        forget(h);
        if (r.kind === 'completed') acks.push(h.delivery.id);
        else if (r.kind === 'failed') {
          work.push(
            deadLetterMessage(h.delivery, h.job, `job failed for good earlier: ${r.error ?? 'unknown'}`),
          );
        } else {
          // Held elsewhere, or a retry is scheduled: come back when that ends, never sooner.
          work.push(queue.release(h.delivery.id, r.remainingMs + REDELIVERY_MARGIN_MS));
        }
      }
      if (acks.length > 0) work.push(queue.ack(acks));
      const results = await Promise.allSettled(work);
      for (const r of results) {
        if (r.status === 'rejected') {
          logger.warn({ err: coerceError(r.reason) }, 'worker: handling a refused lease did not finish');
        }
      }
    },
  };
}
