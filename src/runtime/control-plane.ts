// Wires the resource machinery into a process: the `/v1` API on API processes, the one
// reconcile job on worker processes, both over the same kinds and the same store.

import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { requireRole } from '../api/auth/authenticate.js';
import type { RateLimitOptions } from '../api/auth/rate-limit.js';
import { controlApi } from '../api/resources/index.js';
import type { SystemService } from '../api/system/plugin.js';
import type { TenantResolver } from '../api/tenant.js';
import { type AuthService, createAuthService } from '../control/auth/index.js';
import { createDeadLetterHook } from '../control/dead-letter.js';
import { createEventFeed } from '../control/events/feed.js';
import { RECONCILE_JOB } from '../control/jobs.js';
import { createReconcileHandler } from '../control/reconcile.js';
import { createResourceService, type ResourceService } from '../control/service.js';
import { createUsageStore } from '../controllers/accounting/usage-store.js';
import { createCronRunStore } from '../controllers/cron/runs-store.js';
import type { BackendPorts } from '../core/ports/index.js';
import type { KindRegistry } from '../core/resources/registry.js';
import type { Database } from '../ha/db/database.js';
import type { DeadLetterInfo, HandlerRegistration } from '../ha/worker/types.js';
import { builtinRegistry } from '../kinds/index.js';

/** Attempts of a reconcile job before its resource shows Failed: the worker's default. */
export const RECONCILE_MAX_ATTEMPTS = 5;

/** Options of {@link createControlPlane}. */
export interface ControlPlaneOptions {
  readonly db: Database;
  /** The backends behind their resilience policies. */
  readonly ports: BackendPorts;
  readonly logger: Logger;
  /** Default: the built-in kinds. */
  readonly kinds?: KindRegistry;
  /** Default: the tenant of the request's API key. A trusted resolver is for tests only. */
  readonly tenant?: TenantResolver;
  /** Requests per API key; default none. */
  readonly rateLimit?: RateLimitOptions;
  readonly maxAttempts?: number;
  /** `/v1/system`, on API processes. */
  readonly system?: SystemService;
}

/** Who may use `/v1/system`: operators (an admin key of the operator tenant), here and only here. */
const SYSTEM_GUARD: preHandlerAsyncHookHandler = requireRole('operator');

/** The API routes and the job handlers of the control plane. */
export interface ControlPlane {
  readonly kinds: KindRegistry;
  readonly service: ResourceService;
  /** Tenants and API keys; `start()` it before serving, `close()` it after. */
  readonly auth: AuthService;
  /** Registers `/v1` on a server. */
  routes(app: FastifyInstance): Promise<void>;
  /** The reconcile job, by job kind. */
  readonly handlers: Readonly<Record<string, HandlerRegistration>>;
  /** Fails the operation of a reconcile job the worker dead-lettered. */
  onDeadLetter(info: DeadLetterInfo): Promise<void>;
}

/** Builds the control plane of one process. */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const kinds = options.kinds ?? builtinRegistry();
  const maxAttempts = options.maxAttempts ?? RECONCILE_MAX_ATTEMPTS;
  const service = createResourceService({ db: options.db, kinds, maxAttempts });
  const authLogger = options.logger.child({ component: 'auth' });
  const auth = createAuthService({
    db: options.db,
    onWarn: (message, err) => authLogger.warn({ err: err.message }, message),
  });
  const reconcile = createReconcileHandler({
    db: options.db,
    kinds,
    ports: options.ports,
    maxAttempts,
    logger: options.logger.child({ component: 'reconcile' }),
  });
  const events = createEventFeed({
    db: options.db,
    onError: (err) => options.logger.warn({ err }, 'reading events failed'),
  });
  return {
    kinds,
    service,
    auth,
    routes: (app) =>
      controlApi(app, {
        service,
        kinds,
        events,
        auth,
        usage: createUsageStore(options.db),
        cronRuns: createCronRunStore(options.db),
        pipelines: { db: options.db, runner: options.ports.runner },
        ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
        ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
        ...(options.system === undefined
          ? {}
          : { system: { service: options.system, authorize: SYSTEM_GUARD } }),
      }),
    handlers: { [RECONCILE_JOB]: reconcile },
    onDeadLetter: createDeadLetterHook(options.db),
  };
}
