// The volumes kind's attach and detach actions through HTTP, reconciled against the in-process
// simulator: one instance at a time, and an instance with a volume attached cannot be deleted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { UnavailableError } from '../../src/core/errors/backend-errors.js';
import { volumes } from '../../src/kinds/volumes/index.js';
import { createSimBackends, type SimBackends } from '../../src/sim/index.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, type Json, openControlHarness, tenantClient } from './harness.js';

describe.each(drivers)('volume actions on %s', (driver) => {
  let h: ControlHarness;
  const { send, settle } = tenantClient(() => h);
  let sim: SimBackends;
  const vms: Json[] = [];
  beforeAll(async () => {
    sim = createSimBackends();
    h = await openControlHarness(driver, { ports: createBackends({ memory: sim }) });
    h.startWorker();
    const net = await send('POST', '/v1/networks', { name: 'lan', spec: { cidr: '10.2.0.0/24' } });
    await settle(net.body.operation.id);
    for (const name of ['a', 'b']) {
      const vm = await send('POST', '/v1/instances', {
        name,
        spec: { image: 'ubuntu-24.04', size: 'small', network: net.body.resource.id },
      });
      vms.push((await settle(vm.body.operation.id)).resource);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('attaches to one instance at a time, refuses another, blocks its delete and detaches', async () => {
    const [a, b] = vms as [Json, Json];
    const created = await send('POST', '/v1/volumes', { name: 'data', spec: { sizeGiB: 10, type: 'ssd' } });
    expect(created.status).toBe(202);
    const id = (await settle(created.body.operation.id)).resource.id as string;

    const attach = await send('POST', `/v1/volumes/${id}/attach`, { instance: a.id });
    expect(attach.status).toBe(202);
    const attached = (await settle(attach.body.operation.id)).resource;
    expect(attached.status.outputs.attachedTo).toBe(a.status.outputs.backendId);
    expect((await sim.storage.getVolume(attached.status.outputs.backendId)).attachedTo).toBe(
      a.status.outputs.backendId,
    );
    expect((await send('POST', `/v1/volumes/${id}/attach`, { instance: a.id })).status).toBe(200);

    const other = await send('POST', `/v1/volumes/${id}/attach`, { instance: b.id });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('ACTION_REFUSED');
    expect(other.body.detail).toContain(`already attached to ${a.id}`);

    const del = await send('DELETE', `/v1/instances/${a.id}`);
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('HAS_REFERRERS');
    expect(del.body.detail).toContain(id);

    const detach = await send('POST', `/v1/volumes/${id}/detach`);
    expect(detach.status).toBe(202);
    const detached = (await settle(detach.body.operation.id)).resource;
    expect(detached.spec.attachedTo).toBeUndefined();
    expect(detached.status.outputs.attachedTo).toBeUndefined();
    expect((await send('POST', `/v1/volumes/${id}/detach`)).status).toBe(200);
    const attaches = sim.cloud.audit.filter((e) => e.op === 'attachVolume' && e.outcome === 'created');
    expect(attaches).toHaveLength(1);
  });

  it('names the fields that fail', async () => {
    const bad = await send('POST', '/v1/volumes', { name: 'bad', spec: { sizeGiB: 0, type: 'tape' } });
    expect(bad.status).toBe(422);
    const paths = bad.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/spec/sizeGiB', '/spec/type']));
    const vol = await send('POST', '/v1/volumes', { name: 'v2', spec: { sizeGiB: 1, type: 'standard' } });
    const id = vol.body.resource.id as string;
    const noInstance = await send('POST', `/v1/volumes/${id}/attach`, {
      instance: 'inst_00000000000000000000000000',
    });
    expect(noInstance.status).toBe(422);
    expect(noInstance.body.errors.map((e: { path: string }) => e.path)).toEqual(['/spec/attachedTo']);
    expect((await send('POST', `/v1/volumes/${id}/attach`, {})).body.errors[0].path).toBe('/instance');
  });

  it('detaches from each instance the volume is found on within one pass of its delete, however often it moved', async () => {
    // An older pass still in flight moved the volume between the delete's attempts: each detach
    // of the same job names its instance, so the second is a new call, not a reused token.
    const [a, b] = vms as [Json, Json];
    const created = await send('POST', '/v1/volumes', { name: 'moving', spec: { sizeGiB: 1, type: 'ssd' } });
    const volume = (await settle(created.body.operation.id)).resource;
    const backendId = volume.status.outputs.backendId as string;
    // The first attempt detaches from a, then the backend fails its delete.
    let failDelete = true;
    const storage = new Proxy(h.ports.storage, {
      get(target, prop) {
        if (prop === 'deleteVolume' && failDelete)
          return async () => {
            failDelete = false;
            throw new UnavailableError('the storage backend is restarting');
          };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const driverOf = volumes.driver({ ...h.ports, storage });
    const ctx = {
      clientToken: `reconcile/volumes/${volume.id}/7`,
      fencingToken: 1_000_000,
      signal: new AbortController().signal,
      reference: async () => undefined,
    };
    const attachTo = async (instance: Json) =>
      sim.storage.attachVolume(
        { volumeId: backendId, instanceId: instance.status.outputs.backendId },
        { clientToken: `elsewhere/${instance.id}`, fencingToken: 1_000_000 },
      );
    await attachTo(a);
    const first = driverOf.delete(
      volume as never,
      { backendId, attachedTo: a.status.outputs.backendId },
      ctx,
    );
    await expect(first).rejects.toThrow(/restarting/);
    await attachTo(b);
    await driverOf.delete(volume as never, { backendId, attachedTo: b.status.outputs.backendId }, ctx);
    await expect(sim.storage.getVolume(backendId)).rejects.toThrow();
    const detaches = sim.cloud.audit.filter(
      (e) => e.op === 'detachVolume' && e.clientToken.startsWith(ctx.clientToken),
    );
    expect(detaches.map((e) => e.outcome)).toEqual(['created', 'created']);
  });
});
