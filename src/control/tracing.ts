import { propagation, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { inSpan } from '../core/tracing.js';
import type { JobContext } from '../ha/worker/types.js';

/**
 * Runs one job attempt inside a consumer span that continues the trace of the request that
 * made the job (its envelope's `trace`), so that the backend calls it makes are children of
 * that request's trace. Without tracing the API is a no-op and this costs next to nothing.
 */
export function inJobSpan<T>(
  ctx: JobContext,
  name: string,
  attributes: Record<string, string | number>,
  run: () => Promise<T>,
): Promise<T> {
  const parent =
    ctx.job.trace === undefined
      ? ROOT_CONTEXT
      : propagation.extract(ROOT_CONTEXT, { traceparent: ctx.job.trace });
  return inSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'stratus.job.key': ctx.job.key,
        'stratus.job.kind': ctx.job.kind,
        'stratus.job.attempt': ctx.attempt,
        'stratus.job.lease': ctx.token,
        // Commit of the job to the start of this attempt, on the producer's clock.
        'stratus.job.wait_ms': Math.max(0, Date.now() - ctx.job.enqueuedAt),
        ...attributes,
      },
    },
    async (span) => {
      const result = await run();
      if (typeof result === 'string') span.setAttribute('stratus.job.outcome', result);
      return result;
    },
    parent,
  );
}
