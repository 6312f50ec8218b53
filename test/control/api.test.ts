// The /v1 API without a worker, on PGlite and on PostgreSQL: what a client's request writes and
// what it answers, above all for the client's mistakes (each a 4xx naming the field).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

describe.each(drivers)('the resource API on %s', (driver) => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness(driver);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    h.app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: 'acme', ...headers },
      ...(body === undefined
        ? {}
        : typeof body === 'string'
          ? { payload: body }
          : { payload: body as object }),
    });
  const raw = (method: 'POST' | 'PATCH', url: string, payload: string, contentType = 'application/json') =>
    h.app.inject({ method, url, payload, headers: { [TENANT_HEADER]: 'acme', 'content-type': contentType } });
  // Networks of a tenant may not overlap: each helper call gets its own range.
  let ranges = 0;
  const network = async (name: string, cidr = `10.${100 + ranges++}.0.0/24`, tenant = 'acme') => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/networks',
      headers: { [TENANT_HEADER]: tenant },
      payload: { name, spec: { cidr } },
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json().resource as { id: string; resourceVersion: string };
  };
  const problem = (res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return res.json() as {
      status: number;
      code: string;
      detail: string;
      errors?: { path: string; message: string }[];
    };
  };

  it('creates: 202 with the resource at generation 1, Ready=False Provisioning, an operation, and its job in the outbox', async () => {
    const res = await call('POST', '/v1/networks', {
      name: 'web',
      labels: { app: 'web' },
      spec: { cidr: '10.0.0.0/24' },
    });
    expect(res.statusCode).toBe(202);
    const { resource, operation } = res.json();
    expect(resource.id).toMatch(/^net_[0-9a-z]{26}$/);
    expect(resource).toMatchObject({
      kind: 'networks',
      tenant: 'acme',
      name: 'web',
      labels: { app: 'web' },
      spec: { cidr: '10.0.0.0/24' },
      generation: 1,
      deletionRequestedAt: null,
      status: { phase: 'Provisioning', observedGeneration: 0 },
    });
    expect(resource.status.conditions).toEqual([
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'Provisioning',
        observedGeneration: 1,
      }),
    ]);
    expect(res.headers.etag).toBe(`"${resource.resourceVersion}"`);
    expect(res.headers.location).toBe(`/v1/operations/${operation.id}`);
    expect(operation).toMatchObject({
      state: 'pending',
      verb: 'create',
      generation: 1,
      resourceId: resource.id,
    });
    const outbox = await h.db.query<{ job_key: string }>(
      'SELECT job_key FROM stratus_outbox WHERE job_key = $1',
      [`reconcile/networks/${resource.id}/1`],
    );
    expect(outbox.rowCount).toBe(1);
    const got = await call('GET', `/v1/networks/${resource.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(resource);
    const op = await call('GET', `/v1/operations/${operation.id}`);
    expect(op.json()).toMatchObject({ id: operation.id, state: 'pending', resource: { id: resource.id } });
  });

  it('answers 409 naming the clash for a name taken in the tenant and kind, and writes nothing', async () => {
    await network('taken');
    const before = await h.db.query('SELECT count(*)::int AS n FROM stratus_outbox');
    const res = await call('POST', '/v1/networks', { name: 'taken', spec: { cidr: '10.2.0.0/24' } });
    expect(res.statusCode).toBe(409);
    const p = problem(res);
    expect(p.code).toBe('NAME_TAKEN');
    expect(p.detail).toContain('"taken"');
    expect(p.errors).toEqual([{ path: '/name', message: expect.any(String) }]);
    expect((await h.db.query('SELECT count(*)::int AS n FROM stratus_outbox')).rows).toEqual(before.rows);
    // Another tenant may use the name.
    await network('taken', '10.2.0.0/24', 'other');
  });

  it.each([
    ['a wrong type', { name: 'x1', spec: { cidr: 42 } }, '/spec/cidr'],
    ['an unknown spec field', { name: 'x2', spec: { cidr: '10.0.0.0/24', mtu: 9000 } }, '/spec/mtu'],
    ['an unknown top-level field', { name: 'x3', spec: { cidr: '10.0.0.0/24' }, status: {} }, '/status'],
    ['a missing spec', { name: 'x4' }, '/spec'],
    ['a bad name', { name: 'Not A DNS Label', spec: { cidr: '10.0.0.0/24' } }, '/name'],
    [
      'a bad label value',
      { name: 'x5', labels: { app: 'a b' }, spec: { cidr: '10.0.0.0/24' } },
      '/labels/app',
    ],
    ['host bits in the CIDR', { name: 'x6', spec: { cidr: '10.0.0.1/24' } }, '/spec/cidr'],
    ['a prefix too short', { name: 'x7', spec: { cidr: '10.0.0.0/8' } }, '/spec/cidr'],
    [
      'a NUL character',
      { name: 'x8', labels: { app: 'a\u0000b' }, spec: { cidr: '10.0.0.0/24' } },
      '/labels/app',
    ],
    ['a NUL in a key', { name: 'x9', spec: { 'ci\u0000dr': '10.0.0.0/24' } }, '/spec/ci\u0000dr'],
    ['a body that is not an object', [1, 2], ''],
  ])('answers 422 naming the field for %s', async (_what, body, path) => {
    const res = await call('POST', '/v1/networks', body);
    expect(res.statusCode).toBe(422);
    const p = problem(res);
    expect(p.code).toBe('VALIDATION_FAILED');
    expect(p.errors?.map((e) => e.path)).toContain(path);
    const rows = await h.db.query("SELECT count(*)::int AS n FROM stratus_resources WHERE name LIKE 'x_'");
    expect(rows.rows[0]).toEqual({ n: 0 });
  });

  it('answers 4xx, never 5xx, for bodies that are not JSON, too large, or of another media type', async () => {
    const malformed = await raw('POST', '/v1/networks', '{"name": "x", ');
    expect(malformed.statusCode).toBe(400);
    expect(problem(malformed).detail).toMatch(/JSON/);
    const escaped = await raw('POST', '/v1/networks', '{"name":"nul","spec":{"cidr":"10.0.0.0/24\\u0000"}}');
    expect(escaped.statusCode).toBe(422);
    expect(problem(escaped).errors).toEqual([{ path: '/spec/cidr', message: 'must not contain U+0000' }]);
    const huge = await raw(
      'POST',
      '/v1/networks',
      JSON.stringify({ name: 'big', spec: { cidr: 'x'.repeat(2_000_000) } }),
    );
    expect(huge.statusCode).toBe(413);
    problem(huge);
    const text = await raw('POST', '/v1/networks', 'name=x', 'text/plain');
    expect(text.statusCode).toBe(415);
    problem(text);
    const proto = await raw(
      'POST',
      '/v1/networks',
      '{"name":"p","spec":{"cidr":"10.0.0.0/24"},"__proto__":{"x":1}}',
    );
    expect(proto.statusCode).toBe(400);
    problem(proto);
    const badLimit = await call('GET', '/v1/networks?limit=0');
    expect(badLimit.statusCode).toBe(400);
    expect(problem(badLimit).errors?.[0]?.path).toBe('/querystring/limit');
    const unknownKind = await call('GET', '/v1/nothings');
    expect(unknownKind.statusCode).toBe(404);
    problem(unknownKind);
  });

  it('resolves references at create: missing, foreign, wrong kind and deleting are 422 naming the field', async () => {
    const mine = await network('ref-target');
    const foreign = await network('foreign-net', '10.3.0.0/24', 'other');
    const instance = (networkId: string, name: string) =>
      call('POST', '/v1/instances', {
        name,
        spec: { image: 'ubuntu-24.04', size: 'small', network: networkId },
      });
    const ok = await instance(mine.id, 'vm-ok');
    expect(ok.statusCode).toBe(202);
    for (const [target, message] of [
      ['net_00000000000000000000000000', /no networks net_0+ in this tenant/],
      [foreign.id, /in this tenant/],
      [ok.json().resource.id, /must be the id of one of your networks/],
    ] as const) {
      const res = await instance(target, `vm-bad-${Math.random().toString(36).slice(2, 8)}`);
      expect(res.statusCode).toBe(422);
      expect(problem(res).errors).toEqual([
        { path: '/spec/network', message: expect.stringMatching(message) },
      ]);
    }
    const doomed = await network('doomed', '10.4.0.0/24');
    expect((await call('DELETE', `/v1/networks/${doomed.id}`)).statusCode).toBe(202);
    const late = await instance(doomed.id, 'vm-late');
    expect(late.statusCode).toBe(422);
    expect(problem(late).errors?.[0]?.message).toMatch(/is being deleted/);
  });

  it('refuses to delete a resource others reference: 409 naming them', async () => {
    const net = await network('busy-net', '10.5.0.0/24');
    const vm = await call('POST', '/v1/instances', {
      name: 'busy-vm',
      spec: { image: 'ubuntu-24.04', size: 'small', network: net.id },
    });
    const res = await call('DELETE', `/v1/networks/${net.id}`);
    expect(res.statusCode).toBe(409);
    const p = problem(res);
    expect(p.code).toBe('HAS_REFERRERS');
    expect(p.detail).toContain(`instances/busy-vm (${vm.json().resource.id})`);
    expect((await call('GET', `/v1/networks/${net.id}`)).json().deletionRequestedAt).toBeNull();
  });

  it('patches spec with a JSON merge patch: a new generation and job; If-Match stale is 412; immutable fields are 422', async () => {
    const net = await network('patched', '10.6.0.0/24');
    const labelsOnly = await call(
      'PATCH',
      `/v1/networks/${net.id}`,
      JSON.stringify({ labels: { tier: 'db' } }),
      { 'content-type': 'application/merge-patch+json', 'if-match': `"${net.resourceVersion}"` },
    );
    expect(labelsOnly.statusCode).toBe(200);
    expect(labelsOnly.json()).toMatchObject({
      resource: { labels: { tier: 'db' }, generation: 1 },
      operation: null,
    });
    const stale = await call(
      'PATCH',
      `/v1/networks/${net.id}`,
      { labels: { tier: 'web' } },
      { 'if-match': `"${net.resourceVersion}"` },
    );
    expect(stale.statusCode).toBe(412);
    expect(problem(stale).code).toBe('PRECONDITION_FAILED');
    const immutable = await call('PATCH', `/v1/networks/${net.id}`, { spec: { cidr: '10.7.0.0/24' } });
    expect(immutable.statusCode).toBe(422);
    expect(problem(immutable).errors).toEqual([{ path: '/spec/cidr', message: 'cannot be changed' }]);
    const rename = await call('PATCH', `/v1/networks/${net.id}`, { name: 'other' });
    expect(problem(rename).errors).toEqual([{ path: '/name', message: 'cannot be changed' }]);
    const removeLabel = await call('PATCH', `/v1/networks/${net.id}`, { labels: { tier: null } });
    expect(removeLabel.json().resource.labels).toEqual({});

    const vmNet = await network('patch-vm-net', '10.8.0.0/24');
    const vm = (
      await call('POST', '/v1/instances', {
        name: 'patch-vm',
        spec: { image: 'a', size: 'small', network: vmNet.id },
      })
    ).json().resource;
    const sizeChange = await call('PATCH', `/v1/instances/${vm.id}`, { spec: { size: 'huge' } });
    expect(sizeChange.statusCode).toBe(422);
    expect(problem(sizeChange).errors?.[0]?.path).toBe('/spec/size');
  });

  it('lists with cursor pagination, a limit and a label selector, within the tenant only', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await call('POST', '/v1/networks', {
        name: `page-${i}`,
        labels: { set: 'paging', parity: i % 2 === 0 ? 'even' : 'odd' },
        spec: { cidr: `10.20.${i}.0/24` },
      });
      expect(res.statusCode).toBe(202);
    }
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call(
        'GET',
        `/v1/networks?limit=2&labelSelector=set=paging${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      names.push(...body.items.map((r: { name: string }) => r.name));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(pages).toBe(3);
    const even = await call('GET', '/v1/networks?labelSelector=set=paging,parity=even');
    expect(even.json().items.map((r: { name: string }) => r.name)).toEqual(['page-0', 'page-2', 'page-4']);
    const other = await h.app.inject({
      method: 'GET',
      url: '/v1/networks?labelSelector=set=paging',
      headers: { [TENANT_HEADER]: 'other' },
    });
    expect(other.json().items).toEqual([]);
    const badSelector = await call('GET', '/v1/networks?labelSelector=nope');
    expect(badSelector.statusCode).toBe(400);
    expect(problem(badSelector).errors?.[0]?.path).toBe('/querystring/labelSelector');
    const badCursor = await call('GET', '/v1/networks?cursor=bm9wZQ');
    expect(badCursor.statusCode).toBe(400);
    expect(problem(badCursor).errors?.[0]?.path).toBe('/querystring/cursor');
  });

  it("answers 404 for another tenant's resource and operation on every route", async () => {
    const res = await call('POST', '/v1/networks', { name: 'private', spec: { cidr: '10.9.0.0/24' } });
    const { resource, operation } = res.json();
    const as = (method: 'GET' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      h.app.inject({
        method,
        url,
        headers: { [TENANT_HEADER]: 'intruder' },
        ...(payload ? { payload } : {}),
      });
    for (const r of [
      await as('GET', `/v1/networks/${resource.id}`),
      await as('PATCH', `/v1/networks/${resource.id}`, { labels: { a: 'b' } }),
      await as('DELETE', `/v1/networks/${resource.id}`),
      await as('GET', `/v1/operations/${operation.id}`),
    ]) {
      expect(r.statusCode).toBe(404);
      expect(problem(r).code).toBe('NOT_FOUND');
    }
    expect((await call('GET', `/v1/networks/${resource.id}`)).json().labels).toEqual({});
  });

  it('deletes: 202, deletionRequestedAt set, a new generation; a repeat answers with the same operation', async () => {
    const net = await network('to-delete', '10.10.0.0/24');
    const first = await call('DELETE', `/v1/networks/${net.id}`);
    expect(first.statusCode).toBe(202);
    const { resource, operation } = first.json();
    expect(resource.deletionRequestedAt).not.toBeNull();
    expect(resource).toMatchObject({ generation: 2, status: { phase: 'Deleting' } });
    expect(operation).toMatchObject({ verb: 'delete', generation: 2, state: 'pending' });
    const again = await call('DELETE', `/v1/networks/${net.id}`);
    expect(again.statusCode).toBe(202);
    expect(again.json().operation.id).toBe(operation.id);
    const patch = await call('PATCH', `/v1/networks/${net.id}`, { labels: { a: 'b' } });
    expect(patch.statusCode).toBe(409);
    const wait = await call('GET', `/v1/operations/${operation.id}?wait=50ms`);
    expect(wait.json().state).toBe('pending');
    const heldResource = await call('GET', `/v1/networks/${net.id}?wait=50ms`);
    expect(heldResource.json().status.phase).toBe('Deleting');
    expect((await call('GET', `/v1/networks/${net.id}?wait=later`)).statusCode).toBe(400);
    const badWait = await call('GET', `/v1/operations/${operation.id}?wait=soon`);
    expect(badWait.statusCode).toBe(400);
    expect(problem(badWait).errors?.[0]?.path).toBe('/querystring/wait');
  });
});
