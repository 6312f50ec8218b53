import { describe, expect, it } from 'vitest';
import { createSimBackends } from '../index.js';
import { WIRE } from '../wire/operations.js';
import { buildSimServer } from './app.js';

const TOKEN = 'admin-token-for-tests';
const auth = { authorization: `Bearer ${TOKEN}` };

function server(adminToken: string | null = TOKEN) {
  const sim = createSimBackends();
  return { sim, ...buildSimServer({ sim, ...(adminToken === null ? {} : { adminToken }) }) };
}

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  field: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json()).toMatchObject({ status, field });
}

describe('simulator routes refuse bad input with a problem naming the field', () => {
  const cases = Object.entries(WIRE).flatMap(([backend, operations]) =>
    Object.entries(operations).map(([name, op]) => ({ backend, name, op })),
  );

  it.each(cases)('POST /v1/$backend/$name', async ({ backend, name, op }) => {
    const { app } = server();
    const url = `/v1/${backend}/${name}`;
    if (op.params.length > 0) {
      const [first] = op.params[0]!;
      const response = await app.inject({ method: 'POST', url, payload: { options: { clientToken: 't' } } });
      expectProblem(response, 400, `body.${first}`);
      expect(response.json().detail).toBe(`body.${first} must have required property '${first}'`);
    }
    const unknown = await app.inject({ method: 'POST', url, payload: { options: { bogus: 1 } } });
    expect(unknown.statusCode).toBe(400);
    const field = (unknown.json() as { field: string }).field;
    // Either the first missing parameter, or the unknown option when nothing else is missing.
    if (op.params.length === 0 && !op.mutation) expect(field).toBe('body.options.bogus');
    if (op.mutation && op.params.length === 0) expect(field).toBe('body.options.clientToken');
  });

  it('names a wrong type deep in a value, and an unknown field of a spec', async () => {
    const { app } = server();
    const typed = await app.inject({
      method: 'POST',
      url: '/v1/storage/createVolume',
      payload: { spec: { name: 'v', sizeGiB: '10' }, options: { clientToken: 't' } },
    });
    expectProblem(typed, 400, 'body.spec.sizeGiB');
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/compute/createInstance',
      payload: {
        spec: { name: 'w', image: 'u', size: 'small', colour: 'red' },
        options: { clientToken: 't' },
      },
    });
    expectProblem(extra, 400, 'body.spec.colour');
    const token = await app.inject({
      method: 'POST',
      url: '/v1/compute/deleteInstance',
      payload: { id: 'i-1', options: { clientToken: 't', fencingToken: -1 } },
    });
    expectProblem(token, 400, 'body.options.fencingToken');
  });

  it('refuses a body that is not JSON, and an unknown route', async () => {
    const { app } = server();
    const garbled = await app.inject({
      method: 'POST',
      url: '/v1/compute/ping',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expectProblem(garbled, 400, 'body');
    expectProblem(await app.inject({ method: 'POST', url: '/v1/compute/format' }), 404, 'url');
  });

  it('answers a backend error with its code and status', async () => {
    const { app } = server();
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/compute/getInstance',
      payload: { id: 'i-x' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'BACKEND_NOT_FOUND', resource: 'instance/i-x' });
  });

  it('checks the audit and resolver queries', async () => {
    const { app } = server();
    expectProblem(await app.inject({ url: '/audit?outcome=maybe' }), 400, 'querystring.outcome');
    expectProblem(await app.inject({ url: '/audit?afterSeq=-3' }), 400, 'querystring.afterSeq');
    expectProblem(await app.inject({ url: '/audit?colour=red' }), 400, 'querystring.colour');
    expectProblem(await app.inject({ url: '/resolve' }), 400, 'querystring.name');
    expectProblem(await app.inject({ url: '/resolve?name=a.test&type=SPF' }), 400, 'querystring.type');
  });

  it('checks the admin routes: token, fault rules, profile, load', async () => {
    const { app } = server();
    expectProblem(await app.inject({ url: '/faults' }), 401, 'authorization');
    expectProblem(
      await app.inject({ url: '/faults', headers: { authorization: 'Bearer wrong' } }),
      401,
      'authorization',
    );
    const post = (payload: unknown) =>
      app.inject({ method: 'POST', url: '/faults', headers: auth, payload: payload as object });
    expectProblem(await post({ backend: 'cpu', effect: { kind: 'outage' } }), 400, 'backend');
    expectProblem(
      await post({ backend: 'compute', effect: { kind: 'error', code: 'OOPS' } }),
      400,
      'effect.code',
    );
    expectProblem(
      await post({
        backend: 'compute',
        effect: { kind: 'error', code: 'BACKEND_UNAVAILABLE', probability: 2 },
      }),
      400,
      'effect.probability',
    );
    expectProblem(
      await post({
        backend: 'compute',
        effect: { kind: 'latency', delay: { kind: 'uniform', minMs: 5, maxMs: 1 } },
      }),
      400,
      'effect.delay.maxMs',
    );
    expectProblem(
      await post([
        { backend: 'dns', effect: { kind: 'outage' } },
        { backend: 'dns', durationMs: -1, effect: { kind: 'outage' } },
      ]),
      400,
      '[1].durationMs',
    );
    expectProblem(await app.inject({ method: 'DELETE', url: '/faults/fault-99', headers: auth }), 404, 'id');
    const profile = await app.inject({
      method: 'PUT',
      url: '/profile',
      headers: auth,
      payload: { name: 'p', crashesPerHour: -1 },
    });
    expectProblem(profile, 400, 'crashesPerHour');
    const load = await app.inject({
      method: 'PUT',
      url: '/instances/i-1/load',
      headers: auth,
      payload: { cpu: 7 },
    });
    expectProblem(load, 400, 'body.cpu');
    const crash = await app.inject({ method: 'POST', url: '/instances/i-none/crash', headers: auth });
    expect(crash.json()).toMatchObject({
      status: 404,
      code: 'BACKEND_NOT_FOUND',
      resource: 'instance/i-none',
    });
  });

  it('has no admin routes at all without a token', async () => {
    const { app } = server(null);
    expectProblem(await app.inject({ url: '/faults' }), 404, 'url');
    expectProblem(await app.inject({ method: 'POST', url: '/faults', payload: {} }), 404, 'url');
  });
});

describe('a client that leaves', () => {
  it('aborts the port call it left, and only that one', async () => {
    const { sim, app } = server();
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      // Answered calls close their response too: the signal of none of them aborts.
      const signals: AbortSignal[] = [];
      const listZones = sim.dns.listZones.bind(sim.dns);
      sim.dns.listZones = (options) => {
        if (options?.signal) signals.push(options.signal);
        return listZones(options);
      };
      for (let i = 0; i < 3; i++) {
        const done = await fetch(`${url}/v1/dns/listZones`, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        });
        expect(done.status).toBe(200);
        await done.text();
      }
      expect(signals.map((s) => s.aborted)).toEqual([false, false, false]);
      sim.cloud.inject('dns.listZones', { kind: 'hang' });
      const controller = new AbortController();
      const call = fetch(`${url}/v1/dns/listZones`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
        signal: controller.signal,
      }).catch(() => undefined);
      const deadline = Date.now() + 10_000;
      while (sim.cloud.faults.list()[0]?.hits !== 1) {
        if (Date.now() > deadline) throw new Error('the call never reached the simulator');
        await new Promise((resolve) => setImmediate(resolve));
      }
      controller.abort();
      await call;
      while (sim.cloud.aborts.length === 0) {
        if (Date.now() > deadline) throw new Error('the simulator never saw the client leave');
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(sim.cloud.aborts).toEqual([
        { backend: 'dns', op: 'listZones', reason: new Error('client closed the connection') },
      ]);
    } finally {
      await app.close();
    }
  });
});
