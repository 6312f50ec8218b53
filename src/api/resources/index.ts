// The control-plane API under `/v1`: problem+json errors, the tenant of each request, the
// routes of every kind and the operations. Health and metrics stay outside this scope.

import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../control/auth/index.js';
import type { EventFeed } from '../../control/events/feed.js';
import type { ResourceService } from '../../control/service.js';
import type { UsageStore } from '../../controllers/accounting/usage-store.js';
import type { CronRunStore } from '../../controllers/cron/runs-store.js';
import { INSTANCE_TYPES } from '../../core/catalogue/instance-types.js';
import type { RunnerPort } from '../../core/ports/runner.js';
import type { KindRegistry } from '../../core/resources/registry.js';
import type { Database } from '../../ha/db/database.js';
import { installAuthentication, tenantOfPrincipal, trustedAdmin } from '../auth/authenticate.js';
import { installRateLimit, type RateLimitOptions } from '../auth/rate-limit.js';
import { authRoutes } from '../auth/routes.js';
import { cronRoutes } from '../cron/plugin.js';
import { eventRoutes } from '../events/plugin.js';
import { openApiRoutes } from '../openapi/plugin.js';
import { hookRoutes, pipelineRoutes } from '../pipelines/plugin.js';
import { installProblemHandlers } from '../problem.js';
import { type SystemRoutesOptions, systemRoutes } from '../system/plugin.js';
import type { TenantResolver } from '../tenant.js';
import { usageRoutes } from '../usage/plugin.js';
import { validatorCompiler } from '../validator.js';
import { operationRoutes } from './operations.js';
import { resourceRoutes } from './plugin.js';

/** Options of {@link controlApi}. */
export interface ControlApiOptions {
  readonly service: ResourceService;
  readonly kinds: KindRegistry;
  /** The process's reader of the event log (`/v1/events`, `/v1/watch`). */
  readonly events: EventFeed;
  /** Tenants, API keys and the verification of each request's key. */
  readonly auth: AuthService;
  /**
   * Trusts this resolver instead of API keys: every request is an admin of the tenant it
   * names (tests that are not about auth). Default: the tenant of the request's key.
   */
  readonly tenant?: TenantResolver;
  /** Requests per key; default none. */
  readonly rateLimit?: RateLimitOptions;
  /** Between two reads of an operation held by `?wait=`. */
  readonly pollMs?: number;
  /** Between two heartbeat comments of a watch stream. Default 15 s. */
  readonly heartbeatMs?: number;
  /** The recorded usage (`/v1/usage`, `/v1/billing/summary`): registered when given. */
  readonly usage?: UsageStore;
  /** Cron jobs' runs (`/v1/cron-jobs/:id/runs`): registered when given. */
  readonly cronRuns?: CronRunStore;
  /**
   * Pipelines' webhook secrets, run logs and signed hooks (`/v1/hooks/pipelines/:id`):
   * registered when given.
   */
  readonly pipelines?: { readonly db: Database; readonly runner: RunnerPort };
  /** `/v1/system` (operators only): registered, and documented, when given. */
  readonly system?: Omit<SystemRoutesOptions, 'tenant'>;
}

/** Registers the `/v1` API on `app`, and its OpenAPI document (`/openapi.json`, `/docs`). */
export async function controlApi(app: FastifyInstance, options: ControlApiOptions): Promise<void> {
  await app.register(
    async (scope) => {
      // Query strings and params are checked by TypeBox itself (with string conversion); bodies
      // are checked by the service against the kind, so no ajv default quietly drops or coerces.
      scope.setValidatorCompiler(validatorCompiler);
      installProblemHandlers(scope);
      // Bodies are JSON (or JSON merge patches): anything else is a 415, not a string to validate.
      scope.removeContentTypeParser('text/plain');
      installAuthentication(
        scope,
        options.tenant ? { trusted: trustedAdmin(options.tenant) } : { keys: options.auth },
      );
      if (options.rateLimit) await installRateLimit(scope, options.rateLimit);
      const tenant = tenantOfPrincipal;
      // Held requests (`?wait=`) end when the server closes, so they never hold a shutdown up.
      const closing = new AbortController();
      scope.addHook('preClose', async () => closing.abort());
      const held = { pollMs: options.pollMs ?? 50, signal: closing.signal };
      await resourceRoutes(scope, { service: options.service, kinds: options.kinds, tenant, ...held });
      await operationRoutes(scope, { service: options.service, tenant, ...held });
      await authRoutes(scope, options.auth);
      await eventRoutes(scope, {
        feed: options.events,
        kinds: options.kinds,
        tenant,
        signal: closing.signal,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
      });
      if (options.usage) await usageRoutes(scope, { store: options.usage, tenant });
      if (options.cronRuns) await cronRoutes(scope, { store: options.cronRuns, tenant });
      if (options.pipelines)
        await pipelineRoutes(scope, { service: options.service, tenant, ...options.pipelines });
      if (options.system) await systemRoutes(scope, { ...options.system, tenant });
      // The catalogue an instance's `size` is one of: the same for every tenant.
      scope.get('/instance-types', async () => ({ items: INSTANCE_TYPES }));
    },
    { prefix: '/v1' },
  );
  if (options.pipelines) await hookRoutes(app, { service: options.service, db: options.pipelines.db });
  await openApiRoutes(app, options.kinds, { system: options.system !== undefined });
}
