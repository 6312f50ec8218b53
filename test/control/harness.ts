// One control plane for a test file: a database on the named driver with every migration, the
// kinds given (default the built-in ones), the `/v1` API on a Fastify instance for inject(),
// and — when started — the real job path of the embedded default: outbox relay, PostgreSQL
// table queue, worker with the one reconcile handler.

import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { expect } from 'vitest';
import type { RateLimitOptions } from '../../src/api/auth/rate-limit.js';
import { controlApi } from '../../src/api/resources/index.js';
import { tenantFromHeader } from '../../src/api/tenant.js';
import { createBackends } from '../../src/backends/index.js';
import { type AuthService, createAuthService, type KeyRole } from '../../src/control/auth/index.js';
import { createDeadLetterHook } from '../../src/control/dead-letter.js';
import { createEventFeed, type EventFeed } from '../../src/control/events/feed.js';
import { RECONCILE_JOB } from '../../src/control/jobs.js';
import { createReconcileHandler } from '../../src/control/reconcile.js';
import { createResourceService, type ResourceService } from '../../src/control/service.js';
import { createCronRunStore } from '../../src/controllers/cron/runs-store.js';
import type { BackendPorts } from '../../src/core/ports/index.js';
import type { KindRegistry } from '../../src/core/resources/registry.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createOutboxRelay } from '../../src/ha/outbox/relay.js';
import { createPostgresQueue } from '../../src/ha/queue/postgres/postgres-queue.js';
import { createWorker } from '../../src/ha/worker/worker.js';
import { builtinRegistry } from '../../src/kinds/index.js';
import { migrations } from '../../src/migrations/index.js';
import { type DriverName, openTestDatabase } from '../helpers/db.js';

/** Header naming the tenant in these tests (see src/api/tenant.ts). */
export const TENANT_HEADER = 'x-test-tenant';

export interface ControlHarness {
  db: Database;
  app: FastifyInstance;
  service: ResourceService;
  events: EventFeed;
  kinds: KindRegistry;
  auth: AuthService;
  /**
   * A new key (the whole token) of `tenant` with `role`, creating the tenant if needed: the
   * `authorization` header to send with it.
   */
  keyFor(tenant: string, role: KeyRole): Promise<{ authorization: string; id: string }>;
  /** The backends the reconciler drives. */
  ports: BackendPorts;
  /** Starts relay and worker. */
  startWorker(): void;
  /** Stops them (if started), closes the app and the database. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  kinds?: KindRegistry;
  ports?: BackendPorts;
  maxAttempts?: number;
  /** The reconcile handler's timeout. Default 10 s. */
  timeoutMs?: number;
  /**
   * Real authentication: requests need an API key (see `keyFor`). Default: the tenant named by
   * the TENANT_HEADER header, trusted, as an admin.
   */
  auth?: boolean;
  rateLimit?: RateLimitOptions;
}

/** Builds the harness on `driver`. */
export async function openControlHarness(
  driver: DriverName,
  options: HarnessOptions = {},
): Promise<ControlHarness> {
  const { db, dispose } = await openTestDatabase(driver);
  await migrate(db, migrations);
  const kinds = options.kinds ?? builtinRegistry();
  const maxAttempts = options.maxAttempts ?? 3;
  const service = createResourceService({ db, kinds, maxAttempts, idempotencyWaitMs: 500 });
  const auth = createAuthService({ db });
  await auth.start();
  const app = Fastify({ logger: false });
  const events = createEventFeed({ db, pollMs: 10 });
  const ports = options.ports ?? createBackends();
  await controlApi(app, {
    service,
    kinds,
    events,
    auth,
    ...(options.auth ? {} : { tenant: tenantFromHeader(TENANT_HEADER) }),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    pollMs: 10,
    cronRuns: createCronRunStore(db),
    pipelines: { db, runner: ports.runner },
  });
  await app.ready();
  const controller = new AbortController();
  let running: Promise<unknown> | undefined;
  let queue: ReturnType<typeof createPostgresQueue> | undefined;
  return {
    db,
    app,
    service,
    events,
    kinds,
    auth,
    async keyFor(tenant, role) {
      await auth.createTenant(tenant).catch(() => {});
      const { key, token } = await auth.createKey(tenant, { name: `${role} of ${tenant}`, role });
      return { authorization: `Bearer ${token}`, id: key.id };
    },
    ports,
    startWorker() {
      queue = createPostgresQueue({ db, name: 'jobs', consumer: 'test-worker' });
      const worker = createWorker({
        queue,
        db,
        nodeId: 'test-worker',
        concurrency: 8,
        promoteMs: 20,
        receiveBlockMs: 100,
        abortGraceMs: 100,
        onDeadLetter: createDeadLetterHook(db),
        handlers: {
          [RECONCILE_JOB]: createReconcileHandler({
            db,
            kinds,
            ports,
            maxAttempts,
            handler: { backoff: { baseMs: 10, capMs: 20 }, timeoutMs: options.timeoutMs ?? 10_000 },
            logger: pino({ level: 'silent' }),
          }),
        },
      });
      const relay = createOutboxRelay({ db, queue });
      running = Promise.all([worker.start(controller.signal), relay.start(controller.signal)]);
    },
    async close() {
      controller.abort();
      await running;
      await queue?.close();
      await app.close();
      await auth.close();
      await dispose();
    },
  };
}

/** Polls `read` until `done` holds or 15 s pass; returns the last value read. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers by path
export type Json = Record<string, any>;

/**
 * JSON requests to the harness's app as one tenant (trusted by the test header), and the wait
 * for an operation to end in the state expected. `harness` is read at each call, so it may be
 * opened in a `beforeAll` after this is built.
 */
export function tenantClient(harness: () => ControlHarness, tenant = 't1') {
  async function send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    headers = {},
  ) {
    const res = await harness().app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: tenant, ...headers },
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, body: res.body ? (res.json() as Json) : {} };
  }
  async function settle(operationId: string, state = 'succeeded'): Promise<Json> {
    const op = await eventually(
      async () => (await send('GET', `/v1/operations/${operationId}?wait=2s`)).body,
      (o) => !['pending', 'running'].includes(o.state),
      `operation ${operationId}`,
    );
    expect(op.state, JSON.stringify(op.error)).toBe(state);
    return op;
  }
  return { send, settle };
}
