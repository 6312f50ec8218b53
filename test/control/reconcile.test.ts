// The life of a change through the real job path of the embedded default (outbox, relay,
// PostgreSQL-table queue, worker, ledger) on PGlite and on PostgreSQL: networks and instances
// on the in-process cloud, and a toy kind defined in this file alone.

import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  isNotFoundError,
  UnavailableError,
} from '../../src/core/errors/backend-errors.js';
import { defineKind, type KindDefinition } from '../../src/core/resources/kind.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import { BulkheadRejectedError, CircuitOpenError } from '../../src/ha/resilience/errors.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, eventually, openControlHarness, TENANT_HEADER } from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers by path
type Json = Record<string, any>;

const client = (h: ControlHarness) => ({
  async send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
    const res = await h.app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: 't1' },
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, body: res.body ? (res.json() as Json) : {} };
  },
  /** Holds on the operation until it is terminal (the API's own ?wait=). */
  async settle(operationId: string): Promise<Json> {
    return eventually(
      async () => (await this.send('GET', `/v1/operations/${operationId}?wait=2s`)).body,
      (op) => !['pending', 'running'].includes(op.state),
      `operation ${operationId}`,
    );
  },
});

describe.each(drivers)('reconcile of networks and instances on %s', (driver) => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness(driver);
    h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('creates a network and an instance on it in the backend, then deletes both, dependents first', async () => {
    const api = client(h);
    const net = await api.send('POST', '/v1/networks', { name: 'prod', spec: { cidr: '10.0.0.0/24' } });
    expect(net.status).toBe(202);
    expect(await api.settle(net.body.operation.id)).toMatchObject({ state: 'succeeded', error: null });
    const network = (await api.send('GET', `/v1/networks/${net.body.resource.id}`)).body;
    expect(network.status).toMatchObject({ phase: 'Ready', observedGeneration: 1 });
    expect(network.status.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Available', observedGeneration: 1 }),
    ]);
    const backendNet = await h.ports.network.getNetwork(network.status.outputs.backendId);
    expect(backendNet.cidr).toBe('10.0.0.0/24');

    const vm = await api.send('POST', '/v1/instances', {
      name: 'web-1',
      spec: { image: 'ubuntu-24.04', size: 'small', network: network.id },
    });
    expect(vm.status).toBe(202);
    const vmOp = await api.settle(vm.body.operation.id);
    expect(vmOp).toMatchObject({ state: 'succeeded', resource: { status: { phase: 'Ready' } } });
    const outputs = vmOp.resource.status.outputs;
    expect(outputs.address).toMatch(/^10\.0\.0\.\d+$/);
    expect(outputs.networkBackendId).toBe(backendNet.id);
    expect((await h.ports.network.getNetwork(backendNet.id)).attachments).toEqual([outputs.backendId]);

    expect((await api.send('DELETE', `/v1/networks/${network.id}`)).status).toBe(409);
    const delVm = await api.send('DELETE', `/v1/instances/${vm.body.resource.id}`);
    expect(await api.settle(delVm.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    expect((await api.send('GET', `/v1/instances/${vm.body.resource.id}`)).status).toBe(404);
    await expect(h.ports.compute.getInstance(outputs.backendId)).rejects.toSatisfy(isNotFoundError);

    const delNet = await api.send('DELETE', `/v1/networks/${network.id}`);
    expect(delNet.status).toBe(202);
    expect(await api.settle(delNet.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    await expect(h.ports.network.getNetwork(backendNet.id)).rejects.toSatisfy(isNotFoundError);
    const rows = await h.db.query('SELECT id FROM stratus_resources WHERE id = ANY($1)', [
      [network.id, vm.body.resource.id],
    ]);
    expect(rows.rowCount).toBe(0);
  });

  it('deletes an instance whose status lost its connection without leaving it attached to its network', async () => {
    const api = client(h);
    const net = await api.send('POST', '/v1/networks', { name: 'lossy', spec: { cidr: '10.0.1.0/24' } });
    await api.settle(net.body.operation.id);
    const vm = await api.send('POST', '/v1/instances', {
      name: 'web-2',
      spec: { image: 'ubuntu-24.04', size: 'small', network: net.body.resource.id },
    });
    const outputs = (await api.settle(vm.body.operation.id)).resource.status.outputs;
    const networkId = outputs.networkBackendId as string;
    expect((await h.ports.network.getNetwork(networkId)).attachments).toEqual([outputs.backendId]);
    // As if the pass that attached it and took its address had crashed before writing them.
    await h.db.query(
      `UPDATE stratus_resources SET status = jsonb_set(status, '{outputs}', (status->'outputs') - 'address' - 'networkBackendId')
       WHERE id = $1`,
      [vm.body.resource.id],
    );
    const delVm = await api.send('DELETE', `/v1/instances/${vm.body.resource.id}`);
    expect(await api.settle(delVm.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    expect((await h.ports.network.getNetwork(networkId)).attachments).toEqual([]);
    // Its address is free again: the network's delete is not held by anything of it.
    const delNet = await api.send('DELETE', `/v1/networks/${net.body.resource.id}`);
    expect(await api.settle(delNet.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    await expect(h.ports.network.getNetwork(networkId)).rejects.toSatisfy(isNotFoundError);
  });
});

/** A backend of gadgets that records every call, and fails on demand by colour. */
function gadgetBackend() {
  const calls: { op: string; id: string; clientToken: string; fencingToken: number }[] = [];
  const gadgets = new Map<string, string>();
  return {
    calls,
    gadgets,
    call(op: string, id: string, color: string, ctx: { clientToken: string; fencingToken: number }) {
      calls.push({ op, id, clientToken: ctx.clientToken, fencingToken: ctx.fencingToken });
      if (color === 'unavailable') throw new UnavailableError('the gadget factory is on strike');
      if (color === 'invalid') throw new InvalidInputError('gadgets cannot be invalid');
    },
  };
}

/** A promise and the function that settles it: one step of a test's choreography. */
function signal(): [Promise<void>, () => void] {
  let settle!: () => void;
  const reached = new Promise<void>((resolve) => {
    settle = resolve;
  });
  return [reached, settle];
}

/** The toy kind: everything it takes to get routes, jobs and reconcile. */
function gadgetKind(backend: ReturnType<typeof gadgetBackend>): KindDefinition {
  const Spec = Type.Object({ color: Type.String({ maxLength: 20 }) }, { additionalProperties: false });
  const Outputs = Type.Object({ color: Type.String() });
  return defineKind({
    name: 'gadgets',
    idPrefix: 'gad',
    spec: Spec,
    outputs: Outputs,
    driver: () => ({
      async observe(r) {
        const color = backend.gadgets.get(r.id);
        return color === undefined
          ? { exists: false }
          : { exists: true, upToDate: color === r.spec.color, outputs: { color } };
      },
      async create(r, ctx) {
        backend.call('create', r.id, r.spec.color, ctx);
        backend.gadgets.set(r.id, r.spec.color);
        return { color: r.spec.color };
      },
      async update(r, _observed, ctx) {
        backend.call('update', r.id, r.spec.color, ctx);
        backend.gadgets.set(r.id, r.spec.color);
        return { color: r.spec.color };
      },
      async delete(r, _observed, ctx) {
        backend.call('delete', r.id, '', ctx);
        backend.gadgets.delete(r.id);
      },
    }),
  });
}

describe.each(drivers)('a toy kind registered in the test on %s', (driver) => {
  let h: ControlHarness;
  const backend = gadgetBackend();
  beforeAll(async () => {
    h = await openControlHarness(driver, { kinds: new KindRegistry([gadgetKind(backend)]), maxAttempts: 3 });
  });
  afterAll(async () => {
    await h?.close();
  });
  const ledgerToken = async (jobKey: string) =>
    (await h.db.query<{ token: number }>('SELECT token FROM stratus_ledger WHERE job_key = $1', [jobKey]))
      .rows[0]?.token;

  it('a newer generation supersedes an older job, which never touches the backend', async () => {
    // The worker is not running yet: both generations are queued when it starts.
    const api = client(h);
    const created = await api.send('POST', '/v1/gadgets', { name: 'g1', spec: { color: 'red' } });
    expect(created.status).toBe(202);
    const id = created.body.resource.id as string;
    const patched = await api.send('PATCH', `/v1/gadgets/${id}`, { spec: { color: 'blue' } });
    expect(patched.status).toBe(202);
    expect(patched.body.resource.generation).toBe(2);
    h.startWorker();
    const second = await api.settle(patched.body.operation.id);
    expect(second).toMatchObject({ state: 'succeeded', generation: 2 });
    expect(await api.settle(created.body.operation.id)).toMatchObject({ state: 'superseded', generation: 1 });
    expect(second.resource.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 2,
      outputs: { color: 'blue' },
    });
    const mine = backend.calls.filter((c) => c.id === id);
    expect(mine.map((c) => c.clientToken)).toEqual([`reconcile/gadgets/${id}/2`]);
    expect(mine[0]!.fencingToken).toBe(await ledgerToken(`reconcile/gadgets/${id}/2`));
  });

  it('gets routes, a job and a reconcile pass from its definition alone; update and delete go through the driver', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/gadgets', { name: 'g2', spec: { color: 'green' } });
    const id = created.body.resource.id as string;
    // The resource itself can be held until its generation is reconciled.
    const held = await api.send('GET', `/v1/gadgets/${id}?wait=10s`);
    expect(held.body.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 1,
      outputs: { color: 'green' },
    });
    expect(await api.settle(created.body.operation.id)).toMatchObject({ state: 'succeeded' });
    const patched = await api.send('PATCH', `/v1/gadgets/${id}`, { spec: { color: 'yellow' } });
    expect(await api.settle(patched.body.operation.id)).toMatchObject({
      state: 'succeeded',
      resource: { status: { outputs: { color: 'yellow' } } },
    });
    const deleted = await api.send('DELETE', `/v1/gadgets/${id}`);
    expect(await api.settle(deleted.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    expect(backend.gadgets.has(id)).toBe(false);
    const mine = backend.calls.filter((c) => c.id === id);
    expect(mine.map((c) => [c.op, c.clientToken])).toEqual([
      ['create', `reconcile/gadgets/${id}/1`],
      ['update', `reconcile/gadgets/${id}/2`],
      ['delete', `reconcile/gadgets/${id}/3`],
    ]);
    for (const c of mine) expect(c.fencingToken).toBe(await ledgerToken(c.clientToken));
    const list = await api.send('GET', '/v1/gadgets');
    expect(list.status).toBe(200);
  });

  it('after the last failed attempt the resource shows Ready=False with the reason and the backend message', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/gadgets', { name: 'g3', spec: { color: 'unavailable' } });
    const id = created.body.resource.id as string;
    const op = await api.settle(created.body.operation.id);
    expect(op).toMatchObject({
      state: 'failed',
      error: { reason: 'BackendUnavailable', message: 'the gadget factory is on strike' },
    });
    expect(op.resource.status.phase).toBe('Failed');
    expect(op.resource.status.conditions).toEqual([
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'BackendUnavailable',
        message: 'the gadget factory is on strike',
        observedGeneration: 1,
      }),
    ]);
    // Three attempts (maxAttempts), each with the same client token.
    expect(backend.calls.filter((c) => c.id === id).map((c) => c.clientToken)).toEqual(
      Array(3).fill(`reconcile/gadgets/${id}/1`),
    );
    // The next change of spec starts over.
    const fixed = await api.send('PATCH', `/v1/gadgets/${id}`, { spec: { color: 'white' } });
    expect(await api.settle(fixed.body.operation.id)).toMatchObject({
      state: 'succeeded',
      resource: { status: { phase: 'Ready' } },
    });
  });

  it('a terminal backend error fails at once, with no retry', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/gadgets', { name: 'g4', spec: { color: 'invalid' } });
    const id = created.body.resource.id as string;
    expect(await api.settle(created.body.operation.id)).toMatchObject({
      state: 'failed',
      error: { reason: 'InvalidInput', message: 'gadgets cannot be invalid' },
      resource: { status: { phase: 'Failed' } },
    });
    expect(backend.calls.filter((c) => c.id === id)).toHaveLength(1);
  });
});

describe.each(drivers)('a pass that hangs past its timeout on %s', (driver) => {
  let h: ControlHarness;
  let unhang!: () => void;
  const hung = new Promise<void>((resolve) => {
    unhang = resolve;
  });
  const hanging = defineKind({
    name: 'sloths',
    idPrefix: 'slo',
    spec: Type.Object({}, { additionalProperties: false }),
    outputs: Type.Object({}),
    driver: () => ({
      // Ignores its abort signal, as a stuck backend client would: the worker abandons it.
      observe: async () => {
        await hung;
        return { exists: false };
      },
      create: async () => ({}),
      update: async () => ({}),
      delete: async () => {},
    }),
  });
  beforeAll(async () => {
    h = await openControlHarness(driver, {
      kinds: new KindRegistry([hanging]),
      maxAttempts: 1,
      timeoutMs: 200,
    });
    h.startWorker();
  });
  afterAll(async () => {
    unhang();
    await h?.close();
  });

  it('is dead-lettered, and its operation and resource say so: no operation stays running', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/sloths', { name: 's1', spec: {} });
    expect(created.status).toBe(202);
    const op = await api.settle(created.body.operation.id);
    expect(op).toMatchObject({ state: 'failed', error: { reason: 'DeadLettered' } });
    expect(op.error.message).toMatch(/timeout/);
    expect(op.resource.status.phase).toBe('Failed');
    expect(op.resource.status.conditions).toEqual([
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'DeadLettered',
        observedGeneration: 1,
      }),
    ]);
  });
});

describe.each(drivers)('a resource deleted while its create is in the backend on %s', (driver) => {
  let h: ControlHarness;
  const backend = gadgetBackend();
  const [started, createStarted] = signal();
  const [released, releaseCreate] = signal();
  const slowKind = defineKind({
    name: 'parcels',
    idPrefix: 'par',
    spec: Type.Object({}, { additionalProperties: false }),
    outputs: Type.Object({}),
    driver: () => ({
      observe: async (r) =>
        backend.gadgets.has(r.id) ? { exists: true, upToDate: true, outputs: {} } : { exists: false },
      create: async (r, ctx) => {
        backend.call('create', r.id, '', ctx);
        createStarted();
        await released;
        backend.gadgets.set(r.id, 'made');
        return {};
      },
      update: async () => ({}),
      delete: async (r, _observed, ctx) => {
        backend.call('delete', r.id, '', ctx);
        backend.gadgets.delete(r.id);
      },
    }),
  });
  beforeAll(async () => {
    h = await openControlHarness(driver, { kinds: new KindRegistry([slowKind]) });
    h.startWorker();
  });
  afterAll(async () => {
    releaseCreate();
    await h?.close();
  });

  it('the create pass deletes what it made once it finds the row gone: nothing is left in the backend', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/parcels', { name: 'p1', spec: {} });
    const id = created.body.resource.id as string;
    await started;
    // The delete's pass finds nothing in the backend yet and drops the row at once.
    const deleted = await api.send('DELETE', `/v1/parcels/${id}`);
    expect(await api.settle(deleted.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    releaseCreate();
    expect(await api.settle(created.body.operation.id)).toMatchObject({ state: 'superseded' });
    await eventually(
      async () => backend.calls.filter((c) => c.id === id).map((c) => c.op),
      (ops) => ops.includes('delete'),
      'the compensating delete',
    );
    expect(backend.gadgets.has(id)).toBe(false);
    expect(backend.calls.filter((c) => c.id === id).map((c) => [c.op, c.clientToken])).toEqual([
      ['create', `reconcile/parcels/${id}/1`],
      ['delete', `reconcile/parcels/${id}/1`],
    ]);
  });
});

describe.each(drivers)('a create whose pass fails after its resource was deleted on %s', (driver) => {
  let h: ControlHarness;
  const backend = gadgetBackend();
  const [started, createStarted] = signal();
  const [released, releaseCreate] = signal();
  const flakyKind = defineKind({
    name: 'crates',
    idPrefix: 'crt',
    spec: Type.Object({}, { additionalProperties: false }),
    outputs: Type.Object({}),
    driver: () => ({
      observe: async (r) =>
        backend.gadgets.has(r.id) ? { exists: true, upToDate: true, outputs: {} } : { exists: false },
      create: async (r, ctx) => {
        createStarted();
        await released;
        // The backend fails the call: the job goes back for a retry, which finds the row gone.
        backend.call('create', r.id, 'unavailable', ctx);
        return {};
      },
      update: async () => ({}),
      delete: async (r, _observed, ctx) => {
        backend.call('delete', r.id, '', ctx);
        backend.gadgets.delete(r.id);
      },
    }),
  });
  beforeAll(async () => {
    h = await openControlHarness(driver, { kinds: new KindRegistry([flakyKind]) });
    h.startWorker();
  });
  afterAll(async () => {
    releaseCreate();
    await h?.close();
  });

  it('ends the overtaken create operation superseded, not running forever', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/crates', { name: 'c1', spec: {} });
    const id = created.body.resource.id as string;
    await started;
    const deleted = await api.send('DELETE', `/v1/crates/${id}`);
    expect(await api.settle(deleted.body.operation.id)).toMatchObject({ state: 'succeeded', resource: null });
    releaseCreate();
    expect(await api.settle(created.body.operation.id)).toMatchObject({ state: 'superseded', generation: 1 });
    // Its job ends too: the retry finds the row gone and stops there.
    await eventually(
      async () =>
        (
          await h.db.query<{ state: string }>('SELECT state FROM stratus_ledger WHERE job_key = $1', [
            `reconcile/crates/${id}/1`,
          ])
        ).rows[0]?.state,
      (state) => state === 'completed',
      'the create job completed',
    );
  });
});

describe.each(drivers)('a backend its breaker or bulkhead refuses on %s', (driver) => {
  let h: ControlHarness;
  const backend = gadgetBackend();
  // The first five calls are refused without running (more than the job's three attempts).
  let refusals = 0;
  const guardedKind = defineKind({
    name: 'valves',
    idPrefix: 'vlv',
    spec: Type.Object({}, { additionalProperties: false }),
    outputs: Type.Object({}),
    driver: () => ({
      observe: async (r) =>
        backend.gadgets.has(r.id) ? { exists: true, upToDate: true, outputs: {} } : { exists: false },
      create: async (r, ctx) => {
        refusals++;
        if (refusals <= 3) throw CircuitOpenError.fast('compute', 20);
        if (refusals <= 5) throw BulkheadRejectedError.fast('compute', 'full');
        backend.call('create', r.id, '', ctx);
        backend.gadgets.set(r.id, 'open');
        return {};
      },
      update: async () => ({}),
      delete: async () => {},
    }),
  });
  beforeAll(async () => {
    h = await openControlHarness(driver, { kinds: new KindRegistry([guardedKind]), maxAttempts: 3 });
    h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('defers without spending attempts, then succeeds once the backend takes calls again', async () => {
    const api = client(h);
    const created = await api.send('POST', '/v1/valves', { name: 'v1', spec: {} });
    const id = created.body.resource.id as string;
    const done = await api.settle(created.body.operation.id);
    expect(done).toMatchObject({ state: 'succeeded' });
    expect(done.resource.status.phase).toBe('Ready');
    expect(refusals).toBe(6);
    const ledger = await h.db.query<{ attempt: number }>(
      'SELECT attempt FROM stratus_ledger WHERE job_key = $1',
      [`reconcile/valves/${id}/1`],
    );
    expect(ledger.rows[0]?.attempt).toBe(1);
  });
});
