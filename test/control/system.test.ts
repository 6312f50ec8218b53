// `/v1/system` over the real stores: the node registry, the leadership journal, the job queue on
// both backends, breakers published by other processes, and dead letters produced for real by a
// worker, redriven through the outbox and run exactly once more.

import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlApi } from '../../src/api/resources/index.js';
import { tenantFromHeader } from '../../src/api/tenant.js';
import { createAuthService } from '../../src/control/auth/index.js';
import { createDeadLetterHook } from '../../src/control/dead-letter.js';
import { createEventFeed } from '../../src/control/events/feed.js';
import { RECONCILE_JOB } from '../../src/control/jobs.js';
import { createReconcileHandler } from '../../src/control/reconcile.js';
import { createResourceService } from '../../src/control/service.js';
import { UnavailableError } from '../../src/core/errors/backend-errors.js';
import { defineKind } from '../../src/core/resources/kind.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { leaderKeys } from '../../src/ha/leader/keys.js';
import { createPgElector } from '../../src/ha/leader/pg-elector.js';
import { enqueue } from '../../src/ha/outbox/outbox.js';
import { createOutboxRelay } from '../../src/ha/outbox/relay.js';
import type { Queue } from '../../src/ha/queue/port.js';
import { createPostgresQueue } from '../../src/ha/queue/postgres/postgres-queue.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import { CircuitBreaker } from '../../src/ha/resilience/breaker/circuit-breaker.js';
import type { JobContext } from '../../src/ha/worker/types.js';
import { createWorker } from '../../src/ha/worker/worker.js';
import { migrations } from '../../src/migrations/index.js';
import { breakerReporter } from '../../src/runtime/breaker-report.js';
import {
  markNodeDraining,
  markNodeStopped,
  nodeHeartbeat,
  registerNode,
} from '../../src/runtime/node-registry.js';
import { createSystemService } from '../../src/runtime/system.js';
import { type DriverName, drivers, openTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { PG_URL, REDIS_URL } from '../helpers/services.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers by path
type Json = Record<string, any>;

const TENANT_HEADER = 'x-test-tenant';
const NODES = { heartbeatMs: 1_000, staleAfterMs: 5_000 };

/** A component schema of `doc` with every `$ref` inlined, checked by TypeBox. */
function matches(doc: Json, name: string, value: unknown): boolean {
  const inline = (schema: unknown): unknown => {
    if (Array.isArray(schema)) return schema.map(inline);
    if (schema === null || typeof schema !== 'object') return schema;
    const target = (schema as Json).$ref as string | undefined;
    if (target) return inline(doc.components.schemas[target.split('/').at(-1)!]);
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]));
  };
  // biome-ignore lint/suspicious/noExplicitAny: a JSON Schema read from the document
  return Compile(inline(doc.components.schemas[name]) as any).Check(value);
}

/**
 * Real executions of each job (not deliveries, not leases): a flaky job fails its first
 * `failTimes` executions, then succeeds.
 */
class Executions {
  readonly counts = new Map<string, number>();
  run(key: string, failTimes: number): void {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n <= failTimes) throw new Error(`execution ${n} of ${key} failed`);
  }
  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** The check the redrive tests make: after a redrive, the logical job ran exactly once more. */
function assertRanOnceMore(executions: number[], before: number): void {
  const extra = executions.reduce((a, b) => a + b, 0) - before;
  if (extra !== 1) throw new Error(`the redriven job ran ${extra} times, not once`);
}

/** A toy kind whose backend fails its first `failures` creates of each resource. */
function widgets(calls: Executions, failures: () => number) {
  const made = new Set<string>();
  return defineKind({
    name: 'widgets',
    idPrefix: 'wid',
    spec: Type.Object({ size: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    outputs: Type.Object({ size: Type.Integer() }),
    driver: () => ({
      async observe(r) {
        return made.has(r.id)
          ? { exists: true, upToDate: true, outputs: { size: r.spec.size } }
          : { exists: false };
      },
      async create(r) {
        try {
          calls.run(r.id, failures());
        } catch (err) {
          throw new UnavailableError((err as Error).message);
        }
        made.add(r.id);
        return { size: r.spec.size };
      },
      async update(r) {
        return { size: r.spec.size };
      },
      async delete(r) {
        made.delete(r.id);
      },
    }),
  });
}

interface System {
  db: Database;
  app: FastifyInstance;
  queue: Queue;
  executions: Executions;
  widgetCalls: Executions;
  doc: Json;
  get(url: string): Promise<{ status: number; body: Json }>;
  post(url: string, headers?: Record<string, string>): Promise<{ status: number; body: Json; headers: Json }>;
  /** Enqueues a flaky job through the outbox. */
  enqueueFlaky(key: string, failTimes: number): Promise<void>;
  close(): Promise<void>;
}

async function openSystem(
  driver: DriverName,
  options: { redisPrefix?: string; widgetFailures?: () => number } = {},
): Promise<System> {
  const { db, dispose } = await openTestDatabase(driver);
  await migrate(db, migrations);
  const executions = new Executions();
  const widgetCalls = new Executions();
  const kinds = new KindRegistry([widgets(widgetCalls, options.widgetFailures ?? (() => 0))]);
  const redis = options.redisPrefix === undefined ? undefined : new Redis(REDIS_URL);
  const queue: Queue = redis
    ? createRedisStreamsQueue({ redis, prefix: options.redisPrefix!, name: 'jobs', consumer: 'w1' })
    : createPostgresQueue({ db, name: 'jobs', consumer: 'w1' });
  const service = createResourceService({ db, kinds, maxAttempts: 2, idempotencyWaitMs: 500 });
  const system = createSystemService({
    db,
    queue: { name: 'jobs', backend: redis ? 'redis-streams' : 'postgres', admin: queue },
    nodes: NODES,
  });
  const app = Fastify({ logger: false });
  await controlApi(app, {
    service,
    kinds,
    events: createEventFeed({ db, pollMs: 10 }),
    auth: createAuthService({ db }),
    tenant: tenantFromHeader(TENANT_HEADER),
    pollMs: 10,
    system: { service: system },
  });
  await app.ready();
  const backoff = { baseMs: 5, capMs: 10 };
  const worker = createWorker({
    queue,
    db,
    nodeId: 'w1',
    concurrency: 4,
    promoteMs: 20,
    receiveBlockMs: 100,
    abortGraceMs: 100,
    onDeadLetter: createDeadLetterHook(db),
    handlers: {
      flaky: {
        maxAttempts: 2,
        backoff,
        handler: async (ctx: JobContext) =>
          executions.run(ctx.job.key, (ctx.job.payload as { failTimes: number }).failTimes),
      },
      [RECONCILE_JOB]: createReconcileHandler({
        db,
        kinds,
        ports: {} as never,
        maxAttempts: 2,
        handler: { backoff, timeoutMs: 5_000 },
        logger: pino({ level: 'silent' }),
      }),
    },
  });
  const relay = createOutboxRelay({ db, queue });
  const stop = new AbortController();
  const running = Promise.all([worker.start(stop.signal), relay.start(stop.signal)]);
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Json;
  return {
    db,
    app,
    queue,
    executions,
    widgetCalls,
    doc,
    async get(url) {
      const res = await app.inject({ method: 'GET', url, headers: { [TENANT_HEADER]: 't1' } });
      return { status: res.statusCode, body: res.json() as Json };
    },
    async post(url, headers = {}) {
      const res = await app.inject({ method: 'POST', url, headers: { [TENANT_HEADER]: 't1', ...headers } });
      return { status: res.statusCode, body: res.json() as Json, headers: res.headers };
    },
    async enqueueFlaky(key, failTimes) {
      await db.transaction((tx) =>
        enqueue(tx, { key, kind: 'flaky', payload: { failTimes }, maxAttempts: 2 }),
      );
    },
    async close() {
      stop.abort();
      await running;
      await queue.close();
      redis?.disconnect();
      await app.close();
      await dispose();
    },
  };
}

const ledgerState = (db: Database, key: string) =>
  db
    .query<{ state: string; attempt: number; reported: boolean }>(
      'SELECT state, attempt, reported_at IS NOT NULL AS reported FROM stratus_ledger WHERE job_key = $1',
      [key],
    )
    .then((r) => r.rows[0]);
const redriveUrl = (key: string) => `/v1/system/dead-letters/${encodeURIComponent(key)}/redrive`;

describe.each(drivers)('/v1/system on %s', (driver) => {
  let s: System;
  let failWidgets = 2;
  beforeAll(async () => {
    s = await openSystem(driver, { widgetFailures: () => failWidgets });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('the document with the system routes is valid for an independent validator', async () => {
    const result = await new Validator().validate(structuredClone(s.doc));
    expect(result.errors).toBeUndefined();
    expect(s.doc.paths['/v1/system/dead-letters/{key}/redrive'].post.operationId).toBe('redriveDeadLetter');
  });

  it('replicas: every node with role, host, version, heartbeat age, state and draining', async () => {
    await registerNode(s.db, { nodeId: 'api-1', role: 'api', version: '1.2.3', host: 'h1' });
    await registerNode(s.db, { nodeId: 'worker-1', role: 'worker', version: '1.2.3', host: 'h2' });
    await registerNode(s.db, { nodeId: 'worker-2', role: 'worker', version: '1.2.2', host: 'h3' });
    await registerNode(s.db, { nodeId: 'old', role: 'all', version: '1.0.0', host: 'h4' });
    await s.db.query(
      `UPDATE stratus_nodes SET last_seen_at = now() - interval '3 seconds' WHERE node_id = 'worker-2'`,
    );
    await markNodeStopped(s.db, 'old');
    await markNodeDraining(s.db, 'worker-1');
    const res = await s.get('/v1/system/replicas');
    expect(res.status).toBe(200);
    expect(matches(s.doc, 'ReplicaList', res.body)).toBe(true);
    expect(matches(s.doc, 'QueueList', res.body)).toBe(false);
    const byId = Object.fromEntries(res.body.items.map((n: Json) => [n.nodeId, n]));
    expect(byId['api-1']).toMatchObject({
      role: 'api',
      host: 'h1',
      version: '1.2.3',
      state: 'live',
      draining: false,
    });
    expect(byId['worker-1']).toMatchObject({ state: 'live', draining: true });
    expect(byId['worker-2']).toMatchObject({ state: 'suspect' });
    expect(byId['worker-2'].silentMs).toBeGreaterThanOrEqual(2_000);
    expect(byId.old).toMatchObject({ state: 'gone', draining: false });
    expect(byId.old.stoppedAt).not.toBeNull();
  });

  it("breakers: each live node's published breakers, with state, since and recent failures", async () => {
    const compute = new CircuitBreaker({ name: 'compute', consecutiveFailures: 2 });
    const dns = new CircuitBreaker({ name: 'dns' });
    let clock = new Date('2026-01-01T00:00:00Z');
    const reporter = breakerReporter({ compute, dns }, () => clock);
    await registerNode(s.db, { nodeId: 'breaker-node', role: 'worker', version: '1' });
    const stop = new AbortController();
    const beats = nodeHeartbeat(s.db, 'breaker-node', () => {}, { heartbeatMs: 10 }, reporter.report).start(
      stop.signal,
    );
    try {
      clock = new Date('2026-01-01T00:01:00Z');
      for (let i = 0; i < 2; i++) compute.record(compute.tryAcquire()!, 'failure');
      expect(compute.state).toBe('open');
      let items: Json[] = [];
      await until(
        async () => {
          items = (await s.get('/v1/system/breakers')).body.items.filter(
            (b: Json) => b.node === 'breaker-node',
          );
          return items.some((b) => b.port === 'compute' && b.state === 'open');
        },
        5_000,
        'the open breaker published',
      );
      const res = await s.get('/v1/system/breakers');
      expect(matches(s.doc, 'BreakerList', res.body)).toBe(true);
      const open = items.find((b) => b.port === 'compute')!;
      expect(open).toMatchObject({
        nodeState: 'live',
        totalFailures: 2,
        totalRejected: 0,
        since: '2026-01-01T00:01:00.000Z',
      });
      expect(open.retryAfterMs).toBeGreaterThan(0);
      expect(items.find((b) => b.port === 'dns')).toMatchObject({
        state: 'closed',
        totalFailures: 0,
        since: '2026-01-01T00:00:00.000Z',
      });
    } finally {
      stop.abort();
      await beats;
      reporter.stop();
    }
    // A node that stopped is no longer shown: its breakers say nothing of the backends now.
    await markNodeStopped(s.db, 'breaker-node');
    const after = (await s.get('/v1/system/breakers')).body.items;
    expect(after.filter((b: Json) => b.node === 'breaker-node')).toEqual([]);
  });

  it('dead letters: a job that always fails shows with its attempts, error and times; kind filter and cursor', async () => {
    await s.enqueueFlaky('flaky/always-1', 1_000);
    await s.enqueueFlaky('flaky/always-2', 1_000);
    await until(
      async () =>
        (await ledgerState(s.db, 'flaky/always-2'))?.reported === true &&
        (await ledgerState(s.db, 'flaky/always-1'))?.reported === true,
      10_000,
      'both jobs dead-lettered and reported',
    );
    expect(s.executions.of('flaky/always-1')).toBe(2);
    const res = await s.get('/v1/system/dead-letters?kind=flaky');
    expect(res.status).toBe(200);
    expect(matches(s.doc, 'DeadLetterPage', res.body)).toBe(true);
    const first = res.body.items.find((d: Json) => d.jobKey === 'flaky/always-1');
    expect(first).toMatchObject({
      kind: 'flaky',
      attempts: 2,
      maxAttempts: 2,
      reported: true,
      redrives: 0,
      resource: null,
      operation: null,
    });
    expect(first.lastError).toMatch(/execution 2 of flaky\/always-1 failed/);
    expect(Date.parse(first.failedAt)).toBeGreaterThanOrEqual(Date.parse(first.firstAttemptAt));
    expect((await s.get('/v1/system/dead-letters?kind=other')).body.items).toEqual([]);
    // Pages of one, in key order, with no dead letter twice or missing.
    const seen: string[] = [];
    let url = '/v1/system/dead-letters?kind=flaky&limit=1';
    for (let i = 0; i < 10; i++) {
      const page = (await s.get(url)).body;
      seen.push(...page.items.map((d: Json) => d.jobKey));
      if (!page.nextCursor) break;
      url = `/v1/system/dead-letters?kind=flaky&limit=1&cursor=${page.nextCursor}`;
    }
    expect(seen.slice(0, 2)).toEqual(['flaky/always-1', 'flaky/always-2']);
    expect(new Set(seen).size).toBe(seen.length);

    const queues = await s.get('/v1/system/queues');
    expect(queues.status).toBe(200);
    expect(matches(s.doc, 'QueueList', queues.body)).toBe(true);
    expect(queues.body.items[0]).toMatchObject({ name: 'jobs', backend: 'postgres' });
    expect(queues.body.items[0].ledger.deadLettered).toBeGreaterThanOrEqual(2);
    expect(queues.body.items[0].deadLetterStore).toBeGreaterThanOrEqual(2);
  });

  it('redrive runs a dead letter exactly once more and it succeeds; a second redrive meanwhile is a 409', async () => {
    const key = 'flaky/twice';
    await s.enqueueFlaky(key, 2);
    await until(async () => (await ledgerState(s.db, key))?.state === 'failed', 10_000, 'dead-lettered');
    const before = s.executions.of(key);
    expect(before).toBe(2);
    // Two redrives at once: one wins, the other finds the job no longer failed.
    const answers = await Promise.all([s.post(redriveUrl(key)), s.post(redriveUrl(key))]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    const accepted = answers.find((a) => a.status === 202)!.body;
    expect(matches(s.doc, 'RedriveAccepted', accepted)).toBe(true);
    expect(accepted).toMatchObject({
      jobKey: key,
      kind: 'flaky',
      previous: { attempts: 2 },
      operation: null,
    });
    const refused = answers.find((a) => a.status === 409)!.body;
    expect(refused).toMatchObject({ code: 'NOT_DEAD_LETTERED', status: 409 });
    await until(
      async () => (await ledgerState(s.db, key))?.state === 'completed',
      10_000,
      'the redriven job done',
    );
    expect(await ledgerState(s.db, key)).toMatchObject({ attempt: 1 });
    assertRanOnceMore([s.executions.of(key)], before);
    // Completed: nothing to redrive; the dead letter is gone from the list.
    const again = await s.post(redriveUrl(key));
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/completed/);
    expect(s.executions.of(key)).toBe(3);
    const list = (await s.get('/v1/system/dead-letters?kind=flaky')).body.items.map((d: Json) => d.jobKey);
    expect(list).not.toContain(key);
  });

  it('the once-more check fails a redrive that enqueues a fresh copy per request (a known-bad redrive)', async () => {
    const key = 'flaky/naive';
    await s.enqueueFlaky(key, 2);
    await until(async () => (await ledgerState(s.db, key))?.state === 'failed', 10_000, 'dead-lettered');
    const before = s.executions.of(key);
    // The naive redrive: a new job (new key, so new attempts) per request, with no check that the
    // dead letter is still one. Two requests run it twice.
    const naive = (n: number) => s.enqueueFlaky(`${key}#redrive-${n}`, 0);
    await Promise.all([naive(1), naive(2)]);
    await until(
      async () =>
        (await ledgerState(s.db, `${key}#redrive-1`))?.state === 'completed' &&
        (await ledgerState(s.db, `${key}#redrive-2`))?.state === 'completed',
      10_000,
      'both copies done',
    );
    const runs = [
      s.executions.of(key),
      s.executions.of(`${key}#redrive-1`),
      s.executions.of(`${key}#redrive-2`),
    ];
    expect(() => assertRanOnceMore(runs, before)).toThrow(/ran 2 times/);
  });

  it('Idempotency-Key: a retried redrive replays the first answer and redrives nothing more', async () => {
    const key = 'flaky/idem';
    await s.enqueueFlaky(key, 1_000);
    await until(async () => (await ledgerState(s.db, key))?.state === 'failed', 10_000, 'dead-lettered');
    const first = await s.post(redriveUrl(key), { 'idempotency-key': 'redrive-idem-1' });
    expect(first.status).toBe(202);
    const retry = await s.post(redriveUrl(key), { 'idempotency-key': 'redrive-idem-1' });
    expect(retry.status).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    const records = await s.db.query('SELECT id FROM stratus_redrives WHERE job_key = $1', [key]);
    expect(records.rows).toHaveLength(1);
    // The same key on another dead letter's redrive is another request: 422.
    const other = await s.post(redriveUrl('flaky/always-1'), { 'idempotency-key': 'redrive-idem-1' });
    expect(other.status).toBe(422);
    // Left to fail again (it always fails): dead-lettered a second time, and redrivable again.
    await until(
      async () => (await ledgerState(s.db, key))?.state === 'failed',
      10_000,
      'dead-lettered again',
    );
    expect(s.executions.of(key)).toBe(4);
    const listed = (await s.get('/v1/system/dead-letters?kind=flaky')).body.items.find(
      (d: Json) => d.jobKey === key,
    );
    expect(listed).toMatchObject({ redrives: 1, attempts: 2 });
  });

  it('a reconcile dead letter: the resource shows Failed; redrive reopens its operation and it succeeds', async () => {
    failWidgets = 2;
    const created = await s.app.inject({
      method: 'POST',
      url: '/v1/widgets',
      headers: { [TENANT_HEADER]: 't1' },
      payload: { name: 'w1', spec: { size: 1 } },
    });
    expect(created.statusCode).toBe(202);
    const { resource, operation } = created.json() as Json;
    await until(
      async () => (await s.get(`/v1/operations/${operation.id}`)).body.state === 'failed',
      10_000,
      'failed',
    );
    expect((await s.get(`/v1/widgets/${resource.id}`)).body.status.phase).toBe('Failed');
    const jobKey = `reconcile/widgets/${resource.id}/1`;
    const listed = (await s.get('/v1/system/dead-letters?kind=reconcile')).body.items;
    expect(listed).toEqual([
      expect.objectContaining({
        jobKey,
        resource: { kind: 'widgets', id: resource.id, generation: 1 },
        operation: expect.objectContaining({ id: operation.id, state: 'failed', tenant: 't1' }),
      }),
    ]);
    const before = s.widgetCalls.of(resource.id);
    const res = await s.post(redriveUrl(jobKey));
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/operations/${operation.id}`);
    expect(res.body.operation).toMatchObject({ id: operation.id, state: 'pending' });
    const op = (await s.get(`/v1/operations/${operation.id}?wait=5s`)).body;
    expect(op).toMatchObject({ state: 'succeeded', resource: { status: { phase: 'Ready' } } });
    assertRanOnceMore([s.widgetCalls.of(resource.id)], before);
  });

  it('a redriven reconcile job of a resource that moved on is superseded', async () => {
    failWidgets = 1_000;
    const created = await s.app.inject({
      method: 'POST',
      url: '/v1/widgets',
      headers: { [TENANT_HEADER]: 't1' },
      payload: { name: 'w2', spec: { size: 1 } },
    });
    const { resource, operation } = created.json() as Json;
    await until(
      async () => (await s.get(`/v1/operations/${operation.id}`)).body.state === 'failed',
      10_000,
      'failed',
    );
    failWidgets = 0;
    const patched = await s.app.inject({
      method: 'PATCH',
      url: `/v1/widgets/${resource.id}`,
      headers: { [TENANT_HEADER]: 't1', 'content-type': 'application/merge-patch+json' },
      payload: { spec: { size: 2 } },
    });
    expect(patched.statusCode).toBe(202);
    const second = (patched.json() as Json).operation;
    expect((await s.get(`/v1/operations/${second.id}?wait=5s`)).body.state).toBe('succeeded');
    const calls = s.widgetCalls.of(resource.id);
    const res = await s.post(redriveUrl(`reconcile/widgets/${resource.id}/1`));
    expect(res.status).toBe(202);
    const old = (await s.get(`/v1/operations/${operation.id}?wait=5s`)).body;
    expect(old.state).toBe('superseded');
    expect(s.widgetCalls.of(resource.id)).toBe(calls);
    expect((await s.get(`/v1/widgets/${resource.id}`)).body.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 2,
    });
  });

  it('client mistakes are 4xx problems naming the field', async () => {
    const cases: [string, string][] = [
      ['/v1/system/dead-letters?limit=0', '/querystring/limit'],
      ['/v1/system/dead-letters?limit=abc', '/querystring/limit'],
      ['/v1/system/dead-letters?kind=Not%20A%20Kind', '/querystring/kind'],
      ['/v1/system/dead-letters?cursor=%3F%3F', '/querystring/cursor'],
      ['/v1/system/leaders?limit=100000', '/querystring/limit'],
      ['/v1/system/leaders?key=UPPER', '/querystring/key'],
    ];
    for (const [url, path] of cases) {
      const res = await s.get(url);
      expect(res.status, url).toBe(400);
      expect(
        res.body.errors.map((e: Json) => e.path),
        url,
      ).toContain(path);
    }
    const unknown = await s.get('/v1/system/dead-letters?colour=red');
    expect(unknown.status).toBe(400);
    expect((await s.post(redriveUrl('no/such/job'))).status).toBe(404);
    const badKey = await s.post(redriveUrl('flaky/always-1'), { 'idempotency-key': 'é' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors[0].path).toBe('/headers/idempotency-key');
  });
});

describe('/v1/system/leaders on pg', () => {
  let s: System;
  beforeAll(async () => {
    s = await openSystem('pg');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('per key the holder and epoch, and the recent journal newest first, by key and limit', async () => {
    // openSystem made its own database: the elector campaigns on that one.
    const name = (await s.db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    const base = new URL(PG_URL);
    base.pathname = `/${name}`;
    const key = leaderKeys.register('system-test', 9_001);
    const elector = createPgElector({ connectionString: base.toString(), nodeId: 'leader-a' });
    try {
      await registerNode(s.db, { nodeId: 'leader-a', role: 'worker', version: '1' });
      const first = await elector.campaign(key, new AbortController().signal);
      await elector.release(first, 'test step-down');
      await elector.campaign(key, new AbortController().signal);
      const res = await s.get('/v1/system/leaders?key=system-test&limit=5');
      expect(res.status).toBe(200);
      expect(matches(s.doc, 'LeaderList', res.body)).toBe(true);
      expect(res.body.items).toEqual([
        expect.objectContaining({
          key: 'system-test',
          epoch: 2,
          holder: 'leader-a',
          holderState: 'live',
          open: true,
        }),
      ]);
      expect(res.body.journal.map((j: Json) => [j.epoch, j.reason])).toEqual([
        [2, null],
        [1, 'test step-down'],
      ]);
      const one = await s.get('/v1/system/leaders?key=system-test&limit=1');
      expect(one.body.journal).toHaveLength(1);
      expect((await s.get('/v1/system/leaders?key=nothing-here')).body).toEqual({ items: [], journal: [] });
    } finally {
      await elector.close();
    }
  });
});

describe('/v1/system/queues on Redis Streams', () => {
  const { prefix, cleanup } = testRedisPrefix();
  let s: System;
  beforeAll(async () => {
    s = await openSystem('pg', { redisPrefix: prefix });
  });
  afterAll(async () => {
    await s?.close();
    await cleanup();
  });

  it('reports the stream figures with the outbox and ledger, and a dead letter made for real', async () => {
    await s.enqueueFlaky('flaky/redis-dead', 1_000);
    await until(
      async () => (await ledgerState(s.db, 'flaky/redis-dead'))?.state === 'failed',
      10_000,
      'dead-lettered',
    );
    // The ledger records the failure first; the message reaches the dead-letter stream after the report.
    let res = await s.get('/v1/system/queues');
    await until(
      async () => {
        res = await s.get('/v1/system/queues');
        return res.body.items[0].deadLetterStore === 1;
      },
      5_000,
      'the message in the dead-letter stream',
    );
    expect(res.status).toBe(200);
    expect(matches(s.doc, 'QueueList', res.body)).toBe(true);
    expect(res.body.items[0]).toMatchObject({
      name: 'jobs',
      backend: 'redis-streams',
      deadLetterStore: 1,
      ledger: { deadLettered: 1 },
      outbox: { waiting: 0 },
    });
    // Redriven on Redis: runs again through the stream (and fails again, as it always does).
    const before = s.executions.of('flaky/redis-dead');
    expect((await s.post(redriveUrl('flaky/redis-dead'))).status).toBe(202);
    await until(
      async () => s.executions.of('flaky/redis-dead') === before + 2,
      10_000,
      'two more executions',
    );
    await until(
      async () => (await ledgerState(s.db, 'flaky/redis-dead'))?.state === 'failed',
      10_000,
      'failed again',
    );
  });
});

describe('the system guard', () => {
  it('runs before every system route, and only there', async () => {
    const app = Fastify({ logger: false });
    const seen: string[] = [];
    await controlApi(app, {
      service: {} as never,
      events: {} as never,
      auth: {} as never,
      // Trusted as an admin of local: the guard under test decides alone.
      tenant: tenantFromHeader(TENANT_HEADER),
      kinds: new KindRegistry([]),
      system: {
        // The routes are never reached: the guard refuses first, so no service is needed.
        service: {} as never,
        authorize: async (request) => {
          seen.push(request.url);
          throw Object.assign(new Error('operators only'), { statusCode: 403, code: 'FORBIDDEN' });
        },
      },
    });
    try {
      const urls = [
        ['GET', '/v1/system/replicas'],
        ['GET', '/v1/system/leaders'],
        ['GET', '/v1/system/queues'],
        ['GET', '/v1/system/breakers'],
        ['GET', '/v1/system/dead-letters'],
        ['POST', '/v1/system/dead-letters/a%2Fb/redrive'],
      ] as const;
      for (const [method, url] of urls) {
        const res = await app.inject({ method, url });
        expect(res.statusCode, url).toBe(403);
        expect(res.json(), url).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      }
      expect(seen).toHaveLength(urls.length);
      expect((await app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(404);
      expect(seen).toHaveLength(urls.length);
    } finally {
      await app.close();
    }
  });
});
