import type { Logger } from 'pino';
import { sleep } from '../ha/lifecycle/sleep.js';
import type { Readiness } from './readiness.js';

/** Between two readiness checks while a started process waits for its dependencies. */
const RECHECK_MS = 500;

/**
 * Logs the ready line (`fields.msg`, with the other fields) only once /readyz would answer 200:
 * an operator or a script that waits for it can then rely on the process being ready. When a
 * dependency is not there yet (Redis still connecting, or down), the process says what it
 * waits for and keeps checking in the background until it is ready or `signal` aborts.
 * Resolves after the first check.
 */
export async function announceReady(
  readiness: Readiness,
  signal: AbortSignal,
  logger: Logger,
  fields: { msg: string } & Record<string, unknown>,
): Promise<void> {
  const { msg, ...rest } = fields;
  const first = await readiness.report();
  if (first.ready) {
    logger.info(rest, msg);
    return;
  }
  logger.warn({ ...rest, checks: first.checks }, 'started, not ready yet: waiting for the dependencies');
  void (async () => {
    while (!signal.aborted) {
      await sleep(RECHECK_MS, signal);
      if (signal.aborted) return;
      const report = await readiness.report();
      if (report.ready && !signal.aborted) {
        logger.info(rest, msg);
        return;
      }
    }
  })();
}
