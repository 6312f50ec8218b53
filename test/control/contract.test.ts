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
