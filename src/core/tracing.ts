import {
  type Context,
  context,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** Delegates to the registered tracer provider once tracing starts; a no-op until then. */
const tracer = trace.getTracer('stratus');

/**
 * Runs `run` in a span made active for it (a child of `parent`, default the active context):
 * a failure is recorded on the span and marks it failed, and the span ends either way.
 * Without tracing the OpenTelemetry API makes this a no-op.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  run: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer.startActiveSpan(name, options, parent, async (span) => {
    try {
      return await run(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Records a failed span that took no time (a child of the active context), for a call refused
 * before it began: nothing is awaited and no context is entered.
 */
export function failedSpan(name: string, options: SpanOptions, error: Error): void {
  const span = tracer.startSpan(name, options);
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
}
