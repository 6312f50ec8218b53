import { coerceError } from '../job/logger.js';
import { JobTimeoutError } from './errors.js';
import type { JobContext, JobHandler } from './types.js';

export type ExecutionOutcome =
  | { kind: 'succeeded' }
  | { kind: 'failed'; error: Error }
  /** The handler was aborted and did not settle within the grace: it is left running, fenced. */
  | { kind: 'abandoned'; reason: Error };

export interface Execution {
  readonly controller: AbortController;
  readonly done: Promise<ExecutionOutcome>;
}

/**
 * Runs one attempt: aborts the handler at its timeout, and gives up on it `abortGraceMs`
 * after any abort (timeout, lost lease, shutdown) when it ignores its signal. A handler left
 * running that way holds a stale fencing token, so backends refuse its late writes.
 */
export function execute(
  handler: JobHandler,
  ctx: Omit<JobContext, 'signal'>,
  timeoutMs: number,
  abortGraceMs: number,
): Execution {
  const controller = new AbortController();
  let timeout: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  const abandoned = new Promise<ExecutionOutcome>((resolve) => {
    controller.signal.addEventListener(
      'abort',
      () => {
        grace = setTimeout(
          () => resolve({ kind: 'abandoned', reason: coerceError(controller.signal.reason) }),
          abortGraceMs,
        );
      },
      { once: true },
    );
  });
  timeout = setTimeout(() => controller.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
  const ran = Promise.resolve()
    .then(() => handler({ ...ctx, signal: controller.signal }))
    .then(
      (): ExecutionOutcome => ({ kind: 'succeeded' }),
      (err: unknown): ExecutionOutcome => ({ kind: 'failed', error: coerceError(err) }),
    );
  const done = Promise.race([ran, abandoned]).finally(() => {
    clearTimeout(timeout);
    clearTimeout(grace);
    timeout = undefined;
  });
  return { controller, done };
}
