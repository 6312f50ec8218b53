// OpenTelemetry traces, off unless a collector is configured (`--otlp-endpoint`). When on,
// one trace follows a change from its HTTP request through the outbox and the queue (the
// job envelope carries the request's traceparent) to the worker's job span and the backend
// calls it makes, across processes.
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { VERSION } from '../version.js';

export interface TracingOptions {
  /** The collector's base URL: spans go to `<endpoint>/v1/traces` (OTLP/HTTP, JSON). */
  readonly endpoint: string;
  readonly nodeId: string;
  readonly role: string;
  /** Longest time a finished span waits before it is sent. Default 1000 ms. */
  readonly exportDelayMs?: number;
}

export interface Tracing {
  /** Sends the spans still buffered and stops tracing; never throws. */
  shutdown(): Promise<void>;
}

/**
 * Registers a tracer provider for the process (with the W3C trace-context propagator and
 * async-local context), exporting in batches. Spans are made by the API's tracing plugin, the
 * reconcile handler and the backends' resilient wrapper through the global API.
 */
export function startTracing(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'stratus',
      'service.version': VERSION,
      'service.instance.id': options.nodeId,
      'stratus.role': options.role,
    }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }),
        {
          scheduledDelayMillis: options.exportDelayMs ?? 1_000,
        },
      ),
    ],
  });
  provider.register();
  return {
    async shutdown() {
      try {
        await provider.shutdown();
      } catch {
        // A collector that is down loses its last spans; the shutdown goes on.
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
