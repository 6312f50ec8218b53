// The simulator's HTTP server: the five ports, the read-only routes for drills, the admin
// routes (only with a token), health, readiness and metrics. Built without listening, so
// tests can `inject()`; `stratus sim` listens on it.

import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import type { SimBackends } from '../index.js';
import { adminRoutes } from './admin-routes.js';
import { nulPath } from './nul-check.js';
import { observeRoutes } from './observe-routes.js';
import { portRoutes } from './port-routes.js';
import { badRequest, notFound, problemOf, sendProblem } from './problem.js';

/** Options of {@link buildSimServer}. */
export interface SimServerOptions {
  /** The simulated cloud to serve. */
  readonly sim: SimBackends;
  /** Token of the admin routes; without one they do not exist. */
  readonly adminToken?: string;
  /** Where the metrics go; default a fresh registry with the process metrics. */
  readonly registry?: Registry;
}

/** The server and its readiness switch. */
export interface SimServer {
  /** The Fastify instance. */
  readonly app: FastifyInstance;
  /** Marks the server not ready (a shutdown began): `/readyz` answers 503. */
  drain(): void;
}

/** Builds the simulator's HTTP server. */
export function buildSimServer(options: SimServerOptions): SimServer {
  const { sim } = options;
  let registry = options.registry;
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  const calls = new Counter({
    name: 'stratus_sim_calls_total',
    help: 'Port calls served by the simulator, by backend, operation and outcome (ok or error code)',
    labelNames: ['backend', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const app = Fastify({
    logger: false,
    // Unknown fields are refused, not dropped, and nothing is coerced: a client's mistake
    // should come back as a 400 naming the field, not as a call with other arguments.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    bodyLimit: 1024 * 1024,
    // A shutdown ends followed streams (logs, audit) instead of waiting for them forever.
    forceCloseConnections: true,
  });
  let ready = true;

  app.setErrorHandler((error, _request, reply) => sendProblem(reply, problemOf(error)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, notFound(`no route ${request.method} ${request.url.split('?')[0]}`, 'url')),
  );

  // Only JSON bodies: Fastify's default text/plain parser would hand a route a string,
  // refused later as a wrong type; a 415 says what is wrong.
  app.removeContentTypeParser('text/plain');
  // A callback hook, not an async one: no promise per request.
  app.addHook('preValidation', (request, reply, done) => {
    const field =
      nulPath(request.query, 'querystring') ??
      nulPath(request.params, 'params') ??
      nulPath(request.body, 'body');
    if (field === undefined) return done();
    sendProblem(reply, badRequest(field, `${field} holds a NUL character`));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => reply.code(ready ? 200 : 503).send({ ready }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  // One child counter per (backend, operation, outcome), made once: `inc` with a label
  // object hashes the labels on every call.
  const children = new Map<string, { inc(): void }>();
  app.register(
    portRoutes(sim, (backend, operation, outcome) => {
      const key = `${backend}.${operation}.${outcome}`;
      let child = children.get(key);
      if (child === undefined) {
        child = calls.labels({ backend, operation, outcome });
        children.set(key, child);
      }
      child.inc();
    }),
  );
  app.register(observeRoutes(sim));
  if (options.adminToken !== undefined) app.register(adminRoutes(sim, options.adminToken));

  return {
    app,
    drain: () => {
      ready = false;
    },
  };
}
