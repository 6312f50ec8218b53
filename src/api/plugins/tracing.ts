import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { VERSION } from '../../version.js';

/** The server span of each traced request, while it runs. */
const spans = new WeakMap<FastifyRequest, Span>();

/**
 * The W3C traceparent naming a request's span, for the jobs it makes to continue its trace;
 * undefined when the request is not traced (tracing off, or the span not sampled).
 */
export function traceparentOf(request: FastifyRequest): string | undefined {
  const span = spans.get(request);
  if (span === undefined || !span.isRecording()) return undefined;
  const carrier: { traceparent?: string } = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}

/**
 * One server span per request, named by its route pattern (never the raw URL), continuing the
 * caller's trace when the request carries a `traceparent`. Registered only when tracing is on:
 * with it off, requests pay nothing.
 */
const plugin: FastifyPluginAsync = async (app) => {
  const tracer = trace.getTracer('stratus', VERSION);
  // Callback hooks: no promise per request on the hot path.
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?')[0]!,
        },
      },
      parent,
    );
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  const end = (request: FastifyRequest, status?: number) => {
    const span = spans.get(request);
    if (span === undefined) return;
    spans.delete(request);
    if (status === undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted by the client' });
    } else {
      span.setAttribute('http.response.status_code', status);
      // A client's mistake (4xx) is not the server's error: only 5xx marks the span failed.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request);
    done();
  });
};

/** Not encapsulated: the span hooks must see every route of the server. */
export const tracingPlugin = fp(plugin, { name: 'stratus-tracing' });
