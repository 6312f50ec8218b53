import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Readiness } from '../runtime/readiness.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { tracingPlugin } from './plugins/tracing.js';
import { lazyRequestLogger } from './request-logger.js';

export interface ServerOptions {
  logger: Logger;
  readiness: Readiness;
  registry: Registry;
  /** One span per request, continued by the jobs it makes (OpenTelemetry); default off. */
  tracing?: boolean;
  /** Registers the API's routes; absent on a worker's health-only listener. */
  routes?: (app: FastifyInstance) => Promise<void> | void;
}

/** Builds the HTTP server: health and metrics always, the API routes when given. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Requests are measured by the metrics plugin; a log line per request would drown the events.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    // In-flight requests finish on close; idle keep-alive connections are closed at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  // While closing, every response still being written asks its client to close the connection:
  // without it an in-flight request's keep-alive connection would hold close() open until the
  // keep-alive timeout, long after the last response.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: it runs on every response, and a promise per answer
  // is measurable on the GET hot path.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  if (options.tracing) await app.register(tracingPlugin);
  await app.register(metricsPlugin, { registry: options.registry });
  await app.register(healthPlugin, { readiness: options.readiness });
  if (options.routes) await options.routes(app);
  return app;
}
