// GET /v1/usage, GET /v1/billing/summary and GET /v1/system/controllers over real API keys:
// minutes recorded by the accounting pass, read back per tenant (another tenant's never), any
// role; bad query values are 400s naming the field; the controllers route is operators' only.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRole } from '../../src/api/auth/authenticate.js';
import { controlApi } from '../../src/api/resources/index.js';
import { createAuthService } from '../../src/control/auth/index.js';
import { createEventFeed } from '../../src/control/events/feed.js';
import { createResourceService } from '../../src/control/service.js';
import { accountingController } from '../../src/controllers/accounting/controller.js';
import { createUsageStore } from '../../src/controllers/accounting/usage-store.js';
import { controllerGuard } from '../../src/controllers/framework/guard.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { silentLogger } from '../../src/ha/leader/port.js';
import { builtinRegistry } from '../../src/kinds/index.js';
import { migrations } from '../../src/migrations/index.js';
import { createSystemService } from '../../src/runtime/system.js';
import { openTestDatabase } from '../helpers/db.js';

const M = 60_000;
const key = new LeaderKeyRegistry().register('accounting', 110);
let db: Database;
let dispose: () => Promise<void>;
let app: FastifyInstance;
let auth: ReturnType<typeof createAuthService>;
let T: number;
const keys: Record<string, string> = {};

async function addResource(tenant: string, id: string, kind: string, minutesAgo: number, size?: string) {
  await db.query(
    `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version, created_at)
     VALUES ($1, $2, $3, $1, $4::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'), $5)`,
    [id, tenant, kind, JSON.stringify(size ? { size } : {}), new Date(T - minutesAgo * M)],
  );
}
const get = async (who: string, url: string) => {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: keys[who]! } });
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as in the API tests
  return { status: res.statusCode, body: res.json() as Record<string, any> };
};

beforeAll(async () => {
  ({ db, dispose } = await openTestDatabase('pglite'));
  await migrate(db, migrations);
  auth = createAuthService({ db });
  await auth.start();
  for (const [name, tenant, role] of [
    ['t1', 't1', 'viewer'],
    ['t2', 't2', 'admin'],
    ['op', 'local', 'admin'],
  ] as const) {
    await auth.createTenant(tenant).catch(() => {});
    keys[name] = `Bearer ${(await auth.createKey(tenant, { name, role })).token}`;
  }
  T = Math.floor(Date.now() / M) * M;
  await addResource('t1', 'inst_a', 'instances', 10, 'small');
  await addResource('t1', 'inst_b', 'instances', 5, 'large');
  await addResource('t1', 'net_a', 'networks', 10);
  await addResource('t2', 'inst_z', 'instances', 10, 'xlarge');
  // One pass of the accounting controller under its guard: the minutes, and its report.
  const elector = new MemoryElector('node-a', new MemoryLeadership(), db);
  const stop = new AbortController();
  let passed!: () => void;
  const once = new Promise<void>((r) => {
    passed = r;
  });
  const guard = controllerGuard(
    accountingController({ leaderKey: key, minuteMs: M, clock: () => T, resyncMs: 3_600_000 }),
    {
      db,
      elector,
      logger: silentLogger,
      onPass: () => passed(),
    },
  );
  const running = guard.start(stop.signal);
  await once;
  stop.abort();
  await running;
  await elector.close();
  app = Fastify({ logger: false });
  const kinds = builtinRegistry();
  await controlApi(app, {
    service: createResourceService({ db, kinds, maxAttempts: 1 }),
    kinds,
    events: createEventFeed({ db }),
    auth,
    usage: createUsageStore(db),
    system: {
      service: createSystemService({
        db,
        nodes: { heartbeatMs: 1000, staleAfterMs: 10_000 } as never,
        queue: { name: 'jobs', backend: 'postgres', admin: { stats: async () => ({}) as never } },
      }),
      authorize: requireRole('operator'),
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await auth?.close();
  await dispose();
});

describe('GET /v1/usage', () => {
  it("lists the tenant's minutes only, by minute then resource, in cursor pages", async () => {
    const all: Array<Record<string, unknown>> = [];
    let url = '/v1/usage?limit=7';
    for (;;) {
      const page = await get('t1', url);
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      if (!page.body.nextCursor) break;
      url = `/v1/usage?limit=7&cursor=${page.body.nextCursor}`;
    }
    expect(all).toHaveLength(10 + 5 + 10);
    expect(new Set(all.map((r) => r.resourceId))).toEqual(new Set(['inst_a', 'inst_b', 'net_a']));
    const keysOf = all.map((r) => `${r.minute} ${r.resourceId}`);
    expect(keysOf).toEqual([...keysOf].sort());
    expect(all.find((r) => r.resourceId === 'inst_b')).toMatchObject({
      kind: 'instances',
      size: 'large',
      minuteMs: M,
    });
    expect(all.find((r) => r.resourceId === 'inst_b')!.price).toBeCloseTo(0.0416 / 60, 10);
    // Another tenant's resource, named outright, is not there.
    expect((await get('t1', '/v1/usage?resource=inst_z')).body.items).toEqual([]);
    expect(
      (await get('t2', '/v1/usage')).body.items.map((r: { resourceId: string }) => r.resourceId),
    ).toEqual(Array(10).fill('inst_z'));
  });

  it('filters by resource, kind and period', async () => {
    expect((await get('t1', '/v1/usage?resource=inst_a&limit=500')).body.items).toHaveLength(10);
    expect((await get('t1', '/v1/usage?kind=networks&limit=500')).body.items).toHaveLength(10);
    const from = new Date(T - 3 * M).toISOString();
    const to = new Date(T - M).toISOString();
    const page = await get('t1', `/v1/usage?from=${from}&to=${to}&limit=500`);
    expect(page.body.items).toHaveLength(2 * 3);
  });

  it('answers a bad value with a 400 naming the field', async () => {
    for (const [query, field] of [
      ['from=yesterday', '/querystring/from'],
      ['to=2026-13-45', '/querystring/to'],
      [`from=${new Date(T).toISOString()}&to=${new Date(T - M).toISOString()}`, '/querystring/to'],
      ['cursor=bm9wZQ', '/querystring/cursor'],
      ['limit=0', '/querystring/limit'],
    ]) {
      const res = await get('t1', `/v1/usage?${query}`);
      expect(res.status, query).toBe(400);
      expect(JSON.stringify(res.body), query).toContain(field);
    }
  });
});

describe('GET /v1/billing/summary', () => {
  it('sums minutes and charges per kind and size over the period, for the tenant only', async () => {
    const from = new Date(T - 60 * M).toISOString();
    const to = new Date(T).toISOString();
    const res = await get('t1', `/v1/billing/summary?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: Record<string, unknown>) => [i.kind, i.size, i.minutes])).toEqual([
      ['instances', 'large', 5],
      ['instances', 'small', 10],
      ['networks', null, 10],
    ]);
    const amount = 5 * (0.0416 / 60) + 10 * (0.0104 / 60);
    expect(res.body.total.minutes).toBe(25);
    expect(res.body.total.amount).toBeCloseTo(amount, 9);
    const other = await get('t2', `/v1/billing/summary?from=${from}&to=${to}`);
    expect(other.body.total.amount).toBeCloseTo(10 * (0.0832 / 60), 9);
    expect((await get('t1', '/v1/billing/summary?from=soon')).status).toBe(400);
  });
});

describe('GET /v1/system/controllers', () => {
  it("shows the accounting controller's leader, epoch and last pass to operators, and to nobody else", async () => {
    const res = await get('op', '/v1/system/controllers');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        name: 'accounting',
        leader: 'node-a',
        epoch: 1,
        passes: 1,
        errors: 0,
        lagMs: 0,
      }),
    ]);
    expect((await get('t2', '/v1/system/controllers')).status).toBe(403);
    expect((await get('t1', '/v1/system/controllers')).status).toBe(403);
  });
});
