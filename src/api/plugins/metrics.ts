import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';

/**
 * GET /metrics in the Prometheus text format, and the HTTP request duration histogram by
 * method, route (the route pattern, never the raw URL, to bound cardinality) and status.
 */
const plugin: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // A callback hook: no promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};

/** Not encapsulated: the duration hook must see every route of the server. */
export const metricsPlugin = fp(plugin, { name: 'stratus-metrics' });
