// Action routes (`POST /v1/<kind>/:id/<action>`) of a toy kind defined in this file alone: the
// kind declares its actions and gets their routes, validation, idempotency and operations with
// no other code. The driver counts its effects, so "a repeated action has no second effect"
// can fail.

import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineKind } from '../../src/core/resources/kind.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, eventually, openControlHarness, TENANT_HEADER } from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers by path
type Json = Record<string, any>;

/** Backend effects of the toy driver, per resource id: one entry per switch it applied. */
const effects = new Map<string, boolean[]>();

const LampSpec = Type.Object(
  { lit: Type.Boolean(), lentTo: Type.Optional(Type.String({ maxLength: 40 })) },
  { additionalProperties: false },
);
const LampOutputs = Type.Object({ lit: Type.Boolean() });

const lamps = defineKind({
  name: 'lamps',
  idPrefix: 'lamp',
  spec: LampSpec,
  outputs: LampOutputs,
  immutable: ['lit'],
  actions: {
    'switch-on': { description: 'Light a lamp', apply: (spec) => ({ spec: { ...spec, lit: true } }) },
    'switch-off': { description: 'Put a lamp out', apply: (spec) => ({ spec: { ...spec, lit: false } }) },
    lend: {
      description: 'Lend a lamp to someone',
      body: Type.Object(
        { to: Type.String({ minLength: 1, maxLength: 40 }) },
        { additionalProperties: false },
      ),
      apply: (spec, body) =>
        spec.lentTo && spec.lentTo !== body.to
          ? { refused: `already lent to ${spec.lentTo}` }
          : { spec: { ...spec, lentTo: body.to as string } },
    },
  },
  driver: () => {
    const record = (id: string, lit: boolean) => {
      effects.set(id, [...(effects.get(id) ?? []), lit]);
      return { lit };
    };
    return {
      observe: async (r) =>
        r.status.outputs
          ? { exists: true, upToDate: r.status.outputs.lit === r.spec.lit, outputs: r.status.outputs }
          : { exists: false },
      create: async (r) => record(r.id, r.spec.lit),
      update: async (r) => record(r.id, r.spec.lit),
      delete: async () => {},
    };
  },
});

describe.each(drivers)('actions of a toy kind on %s', (driver) => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness(driver, { kinds: new KindRegistry([lamps]) });
    h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  const send = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, headers = {}) => {
    const res = await h.app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: 't1', ...headers },
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body ? (res.json() as Json) : {} };
  };
  const settle = (operationId: string) =>
    eventually(
      async () => (await send('GET', `/v1/operations/${operationId}?wait=2s`)).body,
      (op) => !['pending', 'running'].includes(op.state),
      `operation ${operationId}`,
    );
  const created = async (name: string) => {
    const res = await send('POST', '/v1/lamps', { name, spec: { lit: false } });
    expect(res.status).toBe(202);
    expect((await settle(res.body.operation.id)).state).toBe('succeeded');
    return res.body.resource.id as string;
  };

  it('applies an action as a new generation with one operation, and a repeat writes nothing', async () => {
    const id = await created('desk');
    const on = await send('POST', `/v1/lamps/${id}/switch-on`);
    expect(on.status).toBe(202);
    expect(on.headers.location).toBe(`/v1/operations/${on.body.operation.id}`);
    expect(on.body.operation).toMatchObject({ verb: 'action', action: 'switch-on', generation: 2 });
    expect(on.body.resource.spec.lit).toBe(true);
    const op = await settle(on.body.operation.id);
    expect(op.state).toBe('succeeded');
    expect(op.resource.status.outputs).toEqual({ lit: true });

    const again = await send('POST', `/v1/lamps/${id}/switch-on`);
    expect(again.status).toBe(200);
    expect(again.body.operation).toBeNull();
    expect(again.body.resource.generation).toBe(2);
    // One effect for the create and one for the switch: the repeat reached no backend.
    expect(effects.get(id)).toEqual([false, true]);
  });

  it('replays the first answer for the same Idempotency-Key and applies it once', async () => {
    const id = await created('hall');
    const key = { 'idempotency-key': `k-${driver}-hall` };
    const first = await send('POST', `/v1/lamps/${id}/switch-on`, undefined, key);
    const replay = await send('POST', `/v1/lamps/${id}/switch-on`, undefined, key);
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    await settle(first.body.operation.id);
    const other = await send('POST', `/v1/lamps/${id}/switch-off`, undefined, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(effects.get(id)).toEqual([false, true]);
  });

  it('refuses with a 409 naming why, and writes nothing', async () => {
    const id = await created('porch');
    const lent = await send('POST', `/v1/lamps/${id}/lend`, { to: 'ada' });
    expect(lent.status).toBe(202);
    const refused = await send('POST', `/v1/lamps/${id}/lend`, { to: 'bob' });
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('ACTION_REFUSED');
    expect(refused.body.detail).toContain('already lent to ada');
    const same = await send('POST', `/v1/lamps/${id}/lend`, { to: 'ada' });
    expect(same.status).toBe(200);
    expect((await send('GET', `/v1/lamps/${id}`)).body.generation).toBe(2);
  });

  it('names the body fields that fail, refuses a body where none is taken, and 404s the rest', async () => {
    const id = await created('attic');
    const cases: [string, object | undefined, number, string][] = [
      ['lend', {}, 422, '/to'],
      ['lend', { to: '' }, 422, '/to'],
      ['lend', { to: 'x', when: 1 }, 422, '/when'],
      ['switch-on', { colour: 'red' }, 422, '/colour'],
    ];
    for (const [action, body, status, path] of cases) {
      const res = await send('POST', `/v1/lamps/${id}/${action}`, body);
      expect(res.status, `${action} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await send('POST', `/v1/lamps/${id}/explode`)).status).toBe(404);
    expect((await send('POST', '/v1/lamps/lamp_00000000000000000000000000/switch-on')).status).toBe(404);
    expect((await send('GET', `/v1/lamps/${id}`)).body.generation).toBe(1);
  });

  it('checks If-Match, and a PATCH cannot change what only actions may', async () => {
    const id = await created('cellar');
    const stale = await send('POST', `/v1/lamps/${id}/switch-on`, undefined, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    const patched = await send('PATCH', `/v1/lamps/${id}`, { spec: { lit: true } });
    expect(patched.status).toBe(422);
    expect(patched.body.errors[0].path).toBe('/spec/lit');
  });
});
