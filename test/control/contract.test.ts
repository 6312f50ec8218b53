// The same contract for every registered kind, generated over the registry: a new kind in
// src/kinds is covered without a line here. (Each kind's success paths are in reconcile.test.ts.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinKinds } from '../../src/kinds/index.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

let h: ControlHarness;
beforeAll(async () => {
  h = await openControlHarness('pglite');
});
afterAll(async () => {
  await h?.close();
});

const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = {}) =>
  h.app.inject({
    method,
    url,
    headers: { [TENANT_HEADER]: 'contract', ...headers },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });

describe.each(builtinKinds.map((k) => [k.name, k] as const))('/v1/%s', (name, kind) => {
  const missing = `${kind.idPrefix}_00000000000000000000000000`;

  it('lists an empty page', async () => {
    const res = await send('GET', `/v1/${name}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [] });
  });

  it('names an unknown spec field, a missing spec and a bad name', async () => {
    for (const [body, path] of [
      [{ name: 'c1', spec: { surely_not_a_field: 1 } }, '/spec/surely_not_a_field'],
      [{ name: 'c2' }, '/spec'],
      [{ name: '-bad-', spec: {} }, '/name'],
    ] as const) {
      const res = await send('POST', `/v1/${name}`, body);
      expect(res.statusCode).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });

  it('answers 404 problems for an unknown id on get, patch and delete', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await send(
        method,
        `/v1/${name}/${missing}`,
        method === 'PATCH' ? { labels: {} } : undefined,
      );
      expect(res.statusCode, method).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
  });

  it('answers 400, 413 and 415 for malformed, huge and non-JSON bodies', async () => {
    const json = { 'content-type': 'application/json' };
    expect((await send('POST', `/v1/${name}`, '{', json)).statusCode).toBe(400);
    expect((await send('POST', `/v1/${name}`, `"${'x'.repeat(1_100_000)}"`, json)).statusCode).toBe(413);
    expect((await send('POST', `/v1/${name}`, 'x', { 'content-type': 'text/plain' })).statusCode).toBe(415);
  });
});

// The same routes with real API keys: a key is needed, a viewer only reads, and another
// tenant's id answers 404 on every route of every kind, and on operations.
describe('with API keys', () => {
  let k: ControlHarness;
  let mine: { authorization: string };
  let theirs: { authorization: string };
  let viewer: { authorization: string };
  let kept: { authorization: string };
  /** A resource of tenant `mine` for each kind, and one operation of it. */
  const owned = new Map<string, string>();
  let operationId: string;
  beforeAll(async () => {
    k = await openControlHarness('pglite', { auth: true });
    mine = { authorization: (await k.keyFor('mine', 'admin')).authorization };
    theirs = { authorization: (await k.keyFor('theirs', 'admin')).authorization };
    viewer = { authorization: (await k.keyFor('mine', 'viewer')).authorization };
    kept = { authorization: (await k.keyFor('theirs', 'viewer')).authorization };
    // Rows written directly: what matters here is whose they are, not that a spec reconciles.
    for (const kind of builtinKinds) {
      const id = `${kind.idPrefix}_${'0'.repeat(25)}1`;
      await k.db.query(
        `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
         VALUES ($1, 'mine', $2, 'owned', '{}', '{"phase":"Ready","conditions":[],"observedGeneration":1}', 1, nextval('stratus_resource_version_seq'))`,
        [id, kind.name],
      );
      owned.set(kind.name, id);
    }
    const net = await k.app.inject({
      method: 'POST',
      url: '/v1/networks',
      headers: mine,
      payload: { name: 'with-op', spec: { cidr: '10.77.0.0/24' } },
    });
    expect(net.statusCode).toBe(202);
    operationId = net.json().operation.id;
  }, 120_000);
  afterAll(async () => {
    await k?.close();
  });

  const ask = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
    k.app.inject({
      method,
      url,
      headers: headers as Record<string, string>,
      ...(payload ? { payload } : {}),
    });

  it.each(builtinKinds.map((kind) => [kind.name]))(
    '/v1/%s: 401 without a key on every route',
    async (name) => {
      const id = owned.get(name)!;
      for (const [method, url] of [
        ['GET', `/v1/${name}`],
        ['POST', `/v1/${name}`],
        ['GET', `/v1/${name}/${id}`],
        ['PATCH', `/v1/${name}/${id}`],
        ['DELETE', `/v1/${name}/${id}`],
      ] as const) {
        const res = await ask(
          method,
          url,
          {},
          method === 'POST' || method === 'PATCH' ? { labels: {} } : undefined,
        );
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      }
    },
  );

  it.each(builtinKinds.map((kind) => [kind.name]))(
    '/v1/%s: a viewer reads and may not change',
    async (name) => {
      const id = owned.get(name)!;
      expect((await ask('GET', `/v1/${name}`, viewer)).statusCode).toBe(200);
      expect((await ask('GET', `/v1/${name}/${id}`, viewer)).statusCode).toBe(200);
      for (const [method, url] of [
        ['POST', `/v1/${name}`],
        ['PATCH', `/v1/${name}/${id}`],
        ['DELETE', `/v1/${name}/${id}`],
      ] as const) {
        const res = await ask(method, url, viewer, method === 'DELETE' ? undefined : { labels: {} });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
      }
      // Nothing changed.
      expect((await ask('GET', `/v1/${name}/${id}`, mine)).json().deletionRequestedAt).toBeNull();
    },
  );

  it.each(builtinKinds.map((kind) => [kind.name]))(
    "/v1/%s: another tenant's id is a 404 on every route",
    async (name) => {
      const id = owned.get(name)!;
      for (const who of [theirs, kept]) {
        for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
          const res = await ask(
            method,
            `/v1/${name}/${id}`,
            who,
            method === 'PATCH' ? { labels: { x: 'y' } } : undefined,
          );
          // A viewer of the other tenant is refused a change before anything is looked up.
          expect(res.statusCode, `${method}`).toBe(who === kept && method !== 'GET' ? 403 : 404);
        }
        const listed = (await ask('GET', `/v1/${name}`, who)).json();
        expect(listed.items.map((r: { id: string }) => r.id)).not.toContain(id);
      }
      // The owner still sees it, unchanged.
      const res = await ask('GET', `/v1/${name}/${id}`, mine);
      expect(res.statusCode).toBe(200);
      expect(res.json().labels).toEqual({});
    },
  );

  it("answers 404 for another tenant's operation", async () => {
    expect((await ask('GET', `/v1/operations/${operationId}`, theirs)).statusCode).toBe(404);
    expect((await ask('GET', `/v1/operations/${operationId}`, mine)).statusCode).toBe(200);
  });
});
