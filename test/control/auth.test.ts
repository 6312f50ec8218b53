// Authentication, roles, tenants and API keys: on both drivers through the real API, then the
// revocation guarantee across two API processes on one PostgreSQL database (and the plain TTL
// cache that breaks it), the cache turning itself off while its listener is down, and the
// per-key rate limit in memory, in Redis, and failing open when Redis is gone.

import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlApi } from '../../src/api/resources/index.js';
import {
  type AuthService,
  createAuthService,
  generateKey,
  KEY_PATTERN,
  parseKey,
} from '../../src/control/auth/index.js';
import { checksumOf } from '../../src/control/auth/keys.js';
import { createEventFeed } from '../../src/control/events/feed.js';
import { createResourceService } from '../../src/control/service.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { builtinRegistry } from '../../src/kinds/index.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, drivers, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { type ControlHarness, openControlHarness } from './harness.js';

describe('the key format', () => {
  it('is prefixed, carries a checksum a scanner can verify, and parses back', () => {
    const key = generateKey();
    expect(key.token).toMatch(KEY_PATTERN);
    expect(key.token.startsWith(`stratus_${key.id}_`)).toBe(true);
    expect(parseKey(key.token)?.id).toBe(key.id);
    expect(checksumOf(key.token.slice(0, -6))).toBe(key.token.slice(-6));
    // The hash is of the secret; the token itself appears nowhere in it.
    expect(key.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(generateKey().token).not.toBe(key.token);
  });

  it('refuses a key with one character changed (the checksum fails) and other shapes', () => {
    const { token } = generateKey();
    const i = 20;
    const flipped = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
    expect(parseKey(flipped)).toBeUndefined();
    expect(parseKey(`${token}x`)).toBeUndefined();
    expect(parseKey(token.replace('stratus_', 'stratos_'))).toBeUndefined();
    expect(parseKey('')).toBeUndefined();
  });
});

describe.each(drivers)('auth on %s', (driver) => {
  let h: ControlHarness;
  let operator: string;
  let admin: string;
  let member: string;
  let viewer: string;
  beforeAll(async () => {
    h = await openControlHarness(driver, { auth: true });
    operator = (await h.keyFor('local', 'admin')).authorization;
    admin = (await h.keyFor('acme', 'admin')).authorization;
    member = (await h.keyFor('acme', 'member')).authorization;
    viewer = (await h.keyFor('acme', 'viewer')).authorization;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    authorization?: string,
    payload?: unknown,
  ) =>
    h.app.inject({
      method,
      url,
      headers: authorization === undefined ? {} : { authorization },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('answers 401 problems with WWW-Authenticate for a missing, malformed, unknown or wrong key', async () => {
    const { token } = generateKey();
    const real = parseKey(member.slice(7))!;
    // The right id with another secret (and a valid checksum): found, but the hash differs.
    const body = `stratus_${real.id}_${'A'.repeat(32)}`;
    const wrongSecret = body + checksumOf(body);
    for (const [authorization, challenge] of [
      [undefined, 'Bearer realm="stratus"'],
      ['Bearer nonsense', 'error="invalid_token"'],
      [`Bearer ${token}`, 'error="invalid_token"'],
      [`Bearer ${wrongSecret}`, 'error="invalid_token"'],
      ['Basic dXNlcjpwdw==', 'error="invalid_token"'],
    ] as const) {
      const res = await call('GET', '/v1/networks', authorization);
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toContain(challenge);
      expect(res.json().code).toBe('UNAUTHORIZED');
    }
    // X-API-Key works too.
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/networks',
      headers: { 'x-api-key': viewer.slice(7) },
    });
    expect(res.statusCode).toBe(200);
  });

  it('lets a viewer read only, a member change resources, an admin manage keys', async () => {
    expect((await call('GET', '/v1/networks', viewer)).statusCode).toBe(200);
    const refused = await call('POST', '/v1/networks', viewer, { name: 'v', spec: { cidr: '10.9.0.0/24' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('FORBIDDEN');
    expect(
      (await call('POST', '/v1/networks', member, { name: 'm', spec: { cidr: '10.9.0.0/24' } })).statusCode,
    ).toBe(202);
    expect((await call('GET', '/v1/api-keys', member)).statusCode).toBe(403);
    expect((await call('POST', '/v1/api-keys', member, { name: 'x', role: 'admin' })).statusCode).toBe(403);
    expect((await call('GET', '/v1/api-keys', admin)).statusCode).toBe(200);
    expect((await call('GET', '/v1/tenants', admin)).statusCode).toBe(403);
  });

  it('shows a new key once, lists keys without secrets, and revokes', async () => {
    const created = await call('POST', '/v1/api-keys', admin, { name: 'ci', role: 'member' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { key, id, role, revokedAt } = created.json();
    expect(key).toMatch(KEY_PATTERN);
    expect({ role, revokedAt }).toEqual({ role: 'member', revokedAt: null });
    const listed = await call('GET', '/v1/api-keys', admin);
    const text = listed.body;
    expect(text).not.toContain(key);
    expect(text).not.toContain(parseKey(key)!.secret);
    const item = listed.json().items.find((k: { id: string }) => k.id === id);
    expect(Object.keys(item).sort()).toEqual([
      'createdAt',
      'id',
      'lastUsedAt',
      'name',
      'revokedAt',
      'role',
      'tenant',
    ]);
    // Only the hash is stored.
    const row = await h.db.query('SELECT * FROM stratus_api_keys WHERE id = $1', [id]);
    expect(JSON.stringify(row.rows[0])).not.toContain(parseKey(key)!.secret);

    expect((await call('GET', '/v1/networks', `Bearer ${key}`)).statusCode).toBe(200);
    await until(
      async () => (await call('GET', `/v1/api-keys/${id}`, admin)).json().lastUsedAt !== null,
      10_000,
      'lastUsedAt',
    );
    const revoked = await call('DELETE', `/v1/api-keys/${id}`, admin);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await call('GET', '/v1/networks', `Bearer ${key}`)).statusCode).toBe(401);
  });

  it('names the failing field of a bad key request', async () => {
    for (const [body, path] of [
      [{ name: 'x', role: 'root' }, '/role'],
      [{ role: 'viewer' }, '/name'],
      [{ name: 'x', role: 'viewer', extra: 1 }, '/extra'],
    ] as const) {
      const res = await call('POST', '/v1/api-keys', admin, body);
      expect(res.statusCode).toBe(422);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    // A key of another tenant: operators only.
    expect(
      (await call('POST', '/v1/api-keys', admin, { name: 'x', role: 'viewer', tenant: 'local' })).statusCode,
    ).toBe(403);
  });

  it('lets operators alone manage tenants and give a new tenant its first key', async () => {
    const created = await call('POST', '/v1/tenants', operator, { id: 'globex' });
    expect(created.statusCode).toBe(201);
    expect((await call('POST', '/v1/tenants', operator, { id: 'globex' })).statusCode).toBe(409);
    const bad = await call('POST', '/v1/tenants', operator, { id: 'Not_Valid' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('/id');
    expect((await call('GET', '/v1/tenants/globex', operator)).json().id).toBe('globex');
    expect((await call('GET', '/v1/tenants/nobody', operator)).statusCode).toBe(404);
    const ids = (await call('GET', '/v1/tenants', operator)).json().items.map((t: { id: string }) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['local', 'acme', 'globex']));
    const first = await call('POST', '/v1/api-keys', operator, {
      name: 'first',
      role: 'admin',
      tenant: 'globex',
    });
    expect(first.statusCode).toBe(201);
    expect(first.json().tenant).toBe('globex');
    const unknown = await call('POST', '/v1/api-keys', operator, {
      name: 'x',
      role: 'admin',
      tenant: 'nobody',
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors[0].path).toBe('/tenant');
    // The globex key sees none of acme's keys, and an acme key id is a 404 to it.
    const globex = `Bearer ${first.json().key}`;
    const acmeKeyId = (await call('GET', '/v1/api-keys', admin)).json().items[0].id;
    expect((await call('GET', `/v1/api-keys/${acmeKeyId}`, globex)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/api-keys/${acmeKeyId}`, globex)).statusCode).toBe(404);
    expect((await call('GET', `/v1/api-keys/${acmeKeyId}`, admin)).statusCode).toBe(200);
    expect((await call('GET', '/v1/tenants', globex)).statusCode).toBe(403);
  });
});

/** One API process over `db`, with its own auth service, as a replica would be. */
async function replica(db: Database, auth: AuthService): Promise<FastifyInstance> {
  const kinds = builtinRegistry();
  const app = Fastify({ logger: false });
  await controlApi(app, {
    service: createResourceService({ db, kinds }),
    kinds,
    auth,
    events: createEventFeed({ db, pollMs: 10 }),
  });
  await app.ready();
  return app;
}

describe('revocation across replicas (PostgreSQL)', () => {
  let t: TestDatabase;
  const dbs: Database[] = [];
  const open = () => {
    const db = createPgDatabase({ connectionString: t.url, max: 4 });
    dbs.push(db);
    return db;
  };
  beforeAll(async () => {
    t = await createTestDatabase();
    await migrate(open(), migrations);
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await t?.drop();
  });

  /** Warms `b`'s cache with a fresh key, revokes it through `a`, then asks `b` at once. */
  async function revokeThenAsk(a: FastifyInstance, b: FastifyInstance, authB: AuthService) {
    const setup = createAuthService({ db: dbs[0]! });
    const admin = await setup.createKey('local', { name: 'admin', role: 'admin' });
    const victim = await setup.createKey('local', { name: 'victim', role: 'viewer' });
    const asVictim = { authorization: `Bearer ${victim.token}` };
    expect((await b.inject({ method: 'GET', url: '/v1/networks', headers: asVictim })).statusCode).toBe(200);
    expect(authB.cacheEnabled()).toBe(true);
    const revoked = await a.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${victim.key.id}`,
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(revoked.statusCode).toBe(200);
    return (await b.inject({ method: 'GET', url: '/v1/networks', headers: asVictim })).statusCode;
  }

  it('a key revoked on one replica is refused by the very next request on another', async () => {
    const authA = createAuthService({ db: open() });
    const authB = createAuthService({ db: open() });
    await authA.start();
    await authB.start();
    const a = await replica(dbs.at(-2)!, authA);
    const b = await replica(dbs.at(-1)!, authB);
    try {
      for (let i = 0; i < 5; i++) expect(await revokeThenAsk(a, b, authB)).toBe(401);
    } finally {
      await a.close();
      await b.close();
      await authA.close();
      await authB.close();
    }
  });

  it('a plain TTL cache (the known-bad design) still accepts the revoked key: the test above catches it', async () => {
    const authA = createAuthService({ db: open() });
    const authB = createAuthService({ db: open(), invalidation: 'none', ttlMs: 60_000 });
    await authA.start();
    await authB.start();
    const a = await replica(dbs.at(-2)!, authA);
    const b = await replica(dbs.at(-1)!, authB);
    try {
      expect(await revokeThenAsk(a, b, authB)).toBe(200);
    } finally {
      await a.close();
      await b.close();
      await authA.close();
      await authB.close();
    }
  });

  it('turns its cache off while the listening connection is down, and back on once it listens again', async () => {
    const db = open();
    const auth = createAuthService({ db, resubscribeMs: 50 });
    await auth.start();
    const app = await replica(db, auth);
    try {
      const victim = await auth.createKey('local', { name: 'victim', role: 'viewer' });
      const headers = { authorization: `Bearer ${victim.token}` };
      expect((await app.inject({ method: 'GET', url: '/v1/networks', headers })).statusCode).toBe(200);
      // Cut the listener, then revoke behind its back (no NOTIFY reaches this process).
      await dbs[0]!.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
      );
      await until(() => !auth.cacheEnabled(), 10_000, 'the cache to turn off');
      await dbs[0]!.query('UPDATE stratus_api_keys SET revoked_at = now() WHERE id = $1', [victim.key.id]);
      expect((await app.inject({ method: 'GET', url: '/v1/networks', headers })).statusCode).toBe(401);
      await until(() => auth.cacheEnabled(), 10_000, 'the listener to come back');
    } finally {
      await app.close();
      await auth.close();
    }
  });
});

describe('rate limits per key', { timeout: 60_000 }, () => {
  const redisPrefix = testRedisPrefix();
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redisPrefix.cleanup();
  });

  async function limited(h: ControlHarness, max: number) {
    const a = await h.keyFor('local', 'viewer');
    const b = await h.keyFor('local', 'viewer');
    const get = (authorization: string) =>
      h.app.inject({ method: 'GET', url: '/v1/networks', headers: { authorization } });
    for (let i = 0; i < max; i++) expect((await get(a.authorization)).statusCode).toBe(200);
    const over = await get(a.authorization);
    expect(over.statusCode).toBe(429);
    expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.json().code).toBe('RATE_LIMITED');
    // Another key has its own count.
    expect((await get(b.authorization)).statusCode).toBe(200);
    return a;
  }

  it('answers 429 with Retry-After over the limit, in memory', async () => {
    const h = await openControlHarness('pg', { auth: true, rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      await limited(h, 3);
    } finally {
      await h.close();
    }
  });

  it('counts in Redis, shared by every replica', async () => {
    const redis = new Redis(REDIS_URL);
    clients.push(redis);
    await until(() => redis.status === 'ready', 10_000, 'redis');
    const options = { max: 2, windowMs: 60_000, redis, prefix: redisPrefix.prefix };
    const h = await openControlHarness('pg', { auth: true, rateLimit: options });
    try {
      const a = await limited(h, 2);
      expect(await redis.get(`${redisPrefix.prefix}ratelimit:${a.id}`)).toBe('3');
    } finally {
      await h.close();
    }
  });

  it('lets requests through when Redis is gone (fail open)', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    clients.push(redis);
    const h = await openControlHarness('pg', {
      auth: true,
      rateLimit: { max: 1, windowMs: 60_000, redis, prefix: redisPrefix.prefix },
    });
    try {
      const { authorization } = await h.keyFor('local', 'viewer');
      for (let i = 0; i < 3; i++)
        expect(
          (await h.app.inject({ method: 'GET', url: '/v1/networks', headers: { authorization } })).statusCode,
        ).toBe(200);
    } finally {
      await h.close();
    }
  });
});
