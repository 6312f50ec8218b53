import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RateLimitOptions } from '../api/auth/rate-limit.js';
import { buildServer } from '../api/server.js';
import { type Backends, createBackends } from '../backends/index.js';
import { type Config, optionsAt } from '../config/index.js';
import type { AuthService } from '../control/auth/index.js';
import type { BackendPorts } from '../core/ports/index.js';
import type { Elector } from '../ha/leader/port.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import { ServiceManager } from '../ha/lifecycle/service-manager.js';
import { VERSION } from '../version.js';
import { ensureLocalAdminKey } from './admin-key.js';
import { announceReady } from './announce-ready.js';
import { breakerReporter } from './breaker-report.js';
import { createControlPlane } from './control-plane.js';
import { controllerRunnables } from './controllers.js';
import {
  createJobQueue,
  createJobSystem,
  JOB_QUEUE,
  type JobHandlers,
  type JobSystem,
  type JobSystemOptions,
} from './jobs.js';
import { controlPlaneKeys } from './leader-keys.js';
import { createElector, leaderGuarded } from './leadership.js';
import {
  markNodeDraining,
  markNodeStopped,
  nodeHeartbeat,
  nodeReaper,
  registerNode,
} from './node-registry.js';
import { Readiness } from './readiness.js';
import { applyMigrations, openStores, type Stores } from './stores.js';
import { createSystemService } from './system.js';
import { startTracing } from './tracing.js';

/** The label every series of this process carries, naming its node id. */
export const METRICS_NODE_LABEL = 'stratus_node';

/** The steps of a graceful shutdown, in the order they happen. */
export type ShutdownStep = 'readiness-off' | 'http-closed' | 'services-stopped' | 'stores-closed';

export interface AppOptions {
  logger: Logger;
  /** Extra API routes (tests). */
  routes?: (app: FastifyInstance) => Promise<void> | void;
  /** Told of each shutdown step as it completes. */
  onShutdownStep?: (step: ShutdownStep) => void;
  /** Job handlers by kind, run by worker processes. */
  handlers?: JobHandlers;
  /** Told when a job has failed for good. */
  onDeadLetter?: JobSystemOptions['onDeadLetter'];
  /**
   * Where the embedded default prints its first admin key. Default: stderr, the terminal, so
   * stdout stays JSON log lines when it is not one.
   */
  print?: (text: string) => void;
}

export interface App {
  readonly config: Config;
  /** Where the HTTP listener (API, or a worker's health port) listens, if any. */
  readonly url: string | undefined;
  /** Names of the background services this process runs. */
  readonly services: string[];
  readonly stores: Stores;
  /**
   * The infrastructure backends, each behind its breaker, bulkhead, timeouts and retries:
   * the only handle to them the process has.
   */
  readonly backends: Backends;
  readonly server: FastifyInstance | undefined;
  /** The job path (queue, relay, worker, sweeper) of a process that runs worker services. */
  readonly jobs: JobSystem | undefined;
  /** Tenants and API keys (API processes). */
  readonly auth: AuthService | undefined;
  /** Stops gracefully; resolves true when everything stopped within the deadline. Idempotent. */
  shutdown(reason: string): Promise<boolean>;
}

interface ServiceContext {
  config: Config;
  stores: Stores;
  logger: Logger;
  registry: Registry;
  /** Present on processes that run worker services. */
  elector: Elector | undefined;
  jobs: JobSystem | undefined;
  /** What the node heartbeat publishes: this process's breaker states. */
  report: () => unknown;
  ports: BackendPorts;
}

/** Background services by role: which runnables a process of this role owns. */
function backgroundServices({
  config,
  stores,
  logger,
  registry,
  elector,
  jobs,
  report,
  ports,
}: ServiceContext): Runnable[] {
  const warn = (what: string) => (err: Error) => logger.warn({ err: err.message }, `${what} failed`);
  const services: Runnable[] = [
    nodeHeartbeat(stores.db, config.nodeId, warn('node heartbeat'), optionsAt(config, 'nodes'), report),
  ];
  if (!elector || !jobs) return services;
  // Worker side: everything that runs jobs and maintenance. The API role serves requests only.
  services.push(
    ...jobs.runnables,
    leaderGuarded(
      nodeReaper(stores.db, warn('node reaper'), optionsAt(config, 'nodes')),
      controlPlaneKeys.nodeReaper,
      elector,
      config,
      logger,
      registry,
    ),
    ...controllerRunnables({ config, db: stores.db, elector, logger, registry, ports }),
  );
  return services;
}

/**
 * Starts one Stratus process: stores, migrations, background services for its role, and
 * the HTTP listener (API for roles api/all; health-only for a worker with a health port).
 */
export async function startApp(config: Config, options: AppOptions): Promise<App> {
  const { logger } = options;
  const stores = await openStores(config, logger);
  const tracing =
    config.otlpEndpoint === undefined
      ? undefined
      : startTracing({ endpoint: config.otlpEndpoint, nodeId: config.nodeId, role: config.role });
  let server: FastifyInstance | undefined;
  let elector: Elector | undefined;
  let jobs: JobSystem | undefined;
  // An API-only process opens the job queue only to report its figures on /v1/system/queues.
  let reportQueue: ReturnType<typeof createJobQueue> | undefined;
  let stopBreakerReport: (() => void) | undefined;
  let authToClose: AuthService | undefined;
  try {
    const applied = await applyMigrations(stores.db);
    if (applied.length > 0) logger.info({ applied }, 'applied migrations');
    await registerNode(stores.db, { nodeId: config.nodeId, role: config.role, version: VERSION });

    const registry = new Registry();
    // Not `node`: Kubernetes scrape configs put the machine's name in a `node` label, which
    // would overwrite this one (or be overwritten); nor `instance`, Prometheus's own target label.
    registry.setDefaultLabels({ [METRICS_NODE_LABEL]: config.nodeId });
    collectDefaultMetrics({ register: registry });
    const readiness = new Readiness(stores.readinessChecks);
    // The in-process cloud, or a shared `stratus sim` when a cloud URL is set; either way the
    // raw ports stay inside createBackends and the process sees only the wrapped ones.
    const backends = createBackends({
      registry,
      ...optionsAt(config, 'backends'),
      ...(config.cloudUrl === undefined ? {} : { cloudUrl: config.cloudUrl, caller: config.nodeId }),
    });
    const breakers = breakerReporter(
      Object.fromEntries(Object.entries(backends.policies).map(([port, p]) => [port, p.breaker])),
    );
    stopBreakerReport = breakers.stop;
    if (config.role === 'api') reportQueue = createJobQueue(config, stores, logger);
    const system =
      config.role === 'worker'
        ? undefined
        : createSystemService({
            db: stores.db,
            nodes: optionsAt(config, 'nodes'),
            queue: {
              name: JOB_QUEUE,
              backend: reportQueue?.backend ?? (stores.redis ? 'redis-streams' : 'postgres'),
              // Role all: the worker's own queue, built below.
              admin: { stats: () => (reportQueue?.queue ?? jobs!.queue).stats() },
            },
          });
    const controlPlane = createControlPlane({
      db: stores.db,
      ports: backends,
      logger,
      ...(system ? { system } : {}),
      rateLimit: {
        ...(optionsAt(config, 'rateLimit') as unknown as RateLimitOptions),
        ...(stores.redis ? { redis: stores.redis, prefix: config.redisPrefix } : {}),
      },
    });
    const auth = config.role === 'worker' ? undefined : controlPlane.auth;
    authToClose = auth;
    await auth?.start();

    const manager = new ServiceManager({
      onExit: (name, err) =>
        err
          ? logger.error({ err, service: name }, 'background service failed')
          : logger.warn({ service: name }, 'background service returned on its own'),
    });
    // The API role serves requests only: it enqueues jobs through the outbox, never runs them.
    elector = config.role === 'api' ? undefined : createElector(config, stores, logger);
    jobs =
      elector &&
      createJobSystem({
        config,
        stores,
        logger,
        registry,
        elector,
        handlers: { ...controlPlane.handlers, ...options.handlers },
        onDeadLetter: async (info) => {
          try {
            await controlPlane.onDeadLetter(info);
          } finally {
            await options.onDeadLetter?.(info);
          }
        },
      });
    for (const r of backgroundServices({
      config,
      stores,
      logger,
      registry,
      elector,
      jobs,
      report: breakers.report,
      ports: backends,
    }))
      manager.add(r);

    const listenPort = config.role === 'worker' ? config.healthPort : config.port;
    let url: string | undefined;
    if (listenPort !== undefined) {
      server = await buildServer({
        logger,
        readiness,
        registry,
        tracing: tracing !== undefined,
        ...(config.role !== 'worker'
          ? {
              routes: async (app: FastifyInstance) => {
                await controlPlane.routes(app);
                await options.routes?.(app);
              },
            }
          : {}),
      });
      url = await server.listen({ host: config.host, port: listenPort });
    }
    // The embedded default is one user's: it makes them their first key. In HA mode the
    // operator makes it with `stratus admin create-key`.
    if (auth && config.databaseUrl === undefined)
      await ensureLocalAdminKey({
        auth,
        dataDir: config.dataDir,
        url,
        print: options.print ?? ((text) => process.stderr.write(text)),
      });
    manager.start();

    // Stops the watch for the first ready report when a shutdown begins first.
    const announcer = new AbortController();
    let stopping: Promise<boolean> | undefined;
    const shutdown = (reason: string): Promise<boolean> => {
      stopping ??= (async () => {
        const started = performance.now();
        const remaining = () => Math.max(0, config.shutdownTimeoutMs - (performance.now() - started));
        const step = (s: ShutdownStep) => {
          logger.info({ step: s }, `shutdown: ${s}`);
          options.onShutdownStep?.(s);
        };
        logger.info({ reason, deadlineMs: config.shutdownTimeoutMs }, 'shutting down');
        let clean = true;
        readiness.markShuttingDown();
        announcer.abort();
        // Shown on /v1/system/replicas; bounded, so that a database that does not answer never holds
        // the shutdown up (the stop mark at the end is what matters).
        const bound = new AbortController();
        await Promise.race([
          markNodeDraining(stores.db, config.nodeId).catch((err: Error) =>
            logger.warn({ err: err.message }, 'could not mark the node draining'),
          ),
          delay(Math.min(1_000, remaining()), undefined, { signal: bound.signal }).catch(() => {}),
        ]);
        bound.abort();
        step('readiness-off');
        if (server && config.drainDelayMs > 0) {
          // A load balancer needs to see the 503 before the port closes: until then requests are
          // still served, so none is sent into a closed port.
          const drainMs = Math.min(config.drainDelayMs, remaining());
          logger.info({ drainDelayMs: drainMs }, 'draining: /readyz answers 503, requests are still served');
          await delay(drainMs);
        }
        if (server) {
          const s = server;
          let timer: NodeJS.Timeout | undefined;
          const forced = new Promise<'forced'>((resolve) => {
            timer = setTimeout(() => resolve('forced'), remaining());
          });
          const outcome = await Promise.race([s.close().then(() => 'closed' as const), forced]);
          clearTimeout(timer);
          if (outcome === 'forced') {
            clean = false;
            logger.warn('in-flight requests outlived the shutdown deadline: closing their connections');
            s.server.closeAllConnections();
          }
          step('http-closed');
        }
        await auth?.close().catch((err: Error) => logger.warn({ err: err.message }, 'could not close auth'));
        const report = await manager.stop(remaining());
        if (report.timedOut.length > 0) {
          clean = false;
          logger.warn({ timedOut: report.timedOut }, 'background services outlived the shutdown deadline');
        }
        await jobs
          ?.close()
          .catch((err: Error) => logger.warn({ err: err.message }, 'could not close the queue'));
        await reportQueue?.queue.close().catch(() => {});
        stopBreakerReport?.();
        // Guards released their keys as they stopped; closing ends the lock session itself.
        await elector
          ?.close()
          .catch((err: Error) => logger.warn({ err: err.message }, 'could not close the elector'));
        step('services-stopped');
        await markNodeStopped(stores.db, config.nodeId).catch((err: Error) =>
          logger.warn({ err: err.message }, 'could not mark the node stopped'),
        );
        await stores.close();
        step('stores-closed');
        await tracing?.shutdown();
        return clean;
      })();
      return stopping;
    };

    await announceReady(readiness, announcer.signal, logger, {
      url,
      services: manager.names,
      stores: stores.description,
      version: VERSION,
      msg: `stratus ready: ${url ? `listening on ${url}` : 'no HTTP listener'}, role ${config.role}, ${stores.description}`,
    });
    return { config, url, services: manager.names, stores, backends, server, jobs, auth, shutdown };
  } catch (err) {
    await server?.close().catch(() => {});
    await authToClose?.close().catch(() => {});
    await jobs?.close().catch(() => {});
    await reportQueue?.queue.close().catch(() => {});
    stopBreakerReport?.();
    await elector?.close().catch(() => {});
    await stores.close().catch(() => {});
    await tracing?.shutdown();
    throw err;
  }
}
