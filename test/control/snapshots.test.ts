// Snapshots of volumes and restores from them, and the instance resize action, through HTTP,
// reconciled against the in-process simulator, whose audit counts the effects.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { createSimBackends, type SimBackends } from '../../src/sim/index.js';
import { drivers } from '../helpers/db.js';
import {
  type ControlHarness,
  eventually,
  type Json,
  openControlHarness,
  TENANT_HEADER,
  tenantClient,
} from './harness.js';

describe.each(drivers)('snapshots and resize on %s', (driver) => {
  let h: ControlHarness;
  const { send, settle } = tenantClient(() => h);
  let sim: SimBackends;
  let networkId: string;
  beforeAll(async () => {
    sim = createSimBackends();
    h = await openControlHarness(driver, { ports: createBackends({ memory: sim }) });
    h.startWorker();
    const net = await send('POST', '/v1/networks', { name: 'lan', spec: { cidr: '10.3.0.0/24' } });
    networkId = net.body.resource.id;
    await settle(net.body.operation.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const created = async (kind: string, name: string, spec: object) => {
    const res = await send('POST', `/v1/${kind}`, { name, spec });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return (await settle(res.body.operation.id)).resource as Json;
  };
  /** Audit entries that took effect, per client token: a duplicate is a second one. */
  const effectsPerToken = () => {
    const counts = new Map<string, number>();
    for (const e of sim.cloud.audit.filter((e) => e.outcome === 'created'))
      counts.set(`${e.op} ${e.clientToken}`, (counts.get(`${e.op} ${e.clientToken}`) ?? 0) + 1);
    return counts;
  };
  const effectsOn = (backendId: string, op: string) =>
    sim.cloud.audit
      .filter((e) => e.outcome === 'created')
      .filter((e) => e.op === op && e.resource === `instance/${backendId}`);

  it('snapshots a volume, restores it into a new volume, and guards the volume delete', async () => {
    const vol = await created('volumes', 'data', { sizeGiB: 12, type: 'ssd' });
    const snap = await created('snapshots', 'nightly', { volume: vol.id });
    expect(snap.status.phase).toBe('Ready');
    expect(snap.status.outputs.sizeGiB).toBe(12);
    const backendSnap = (await sim.storage.listSnapshots()).items.find(
      (s) => s.id === snap.status.outputs.backendId,
    );
    expect(backendSnap).toMatchObject({ name: snap.id, volumeId: vol.status.outputs.backendId, sizeGiB: 12 });

    const restored = await created('volumes', 'copy', { sizeGiB: 12, type: 'ssd', fromSnapshot: snap.id });
    expect(restored.status.phase).toBe('Ready');
    const backendVol = await sim.storage.getVolume(restored.status.outputs.backendId);
    expect(backendVol).toMatchObject({ sizeGiB: snap.status.outputs.sizeGiB, fromSnapshot: backendSnap!.id });

    const del = await send('DELETE', `/v1/volumes/${vol.id}`);
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('HAS_REFERRERS');
    expect(del.body.detail).toContain(snap.id);
    for (const [call, n] of effectsPerToken()) expect(n, call).toBe(1);
  });

  it('refuses a snapshot of an unknown volume and a restore smaller than the snapshot', async () => {
    const missing = await send('POST', '/v1/snapshots', { name: 'x', spec: { volume: 'vol-nope' } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e: { path: string }) => e.path)).toEqual(['/spec/volume']);
    const vol = await created('volumes', 'big', { sizeGiB: 20, type: 'standard' });
    const snap = await created('snapshots', 'big-snap', { volume: vol.id });
    const small = await send('POST', '/v1/volumes', {
      name: 'small',
      spec: { sizeGiB: 5, type: 'standard', fromSnapshot: snap.id },
    });
    expect(small.status).toBe(202);
    const op = await settle(small.body.operation.id, 'failed');
    expect(JSON.stringify(op.error)).toContain('SnapshotTooLarge');
    expect((await sim.storage.listVolumes()).items.filter((v) => v.name === small.body.resource.id)).toEqual(
      [],
    );
  });

  it('deletes a volume with its snapshots when cascading', async () => {
    const vol = await created('volumes', 'scratch', { sizeGiB: 3, type: 'standard' });
    const snap = await created('snapshots', 'scratch-snap', { volume: vol.id });
    const del = await send('DELETE', `/v1/volumes/${vol.id}?cascade=true`);
    expect(del.status).toBe(202);
    await eventually(
      async () => (await send('GET', `/v1/snapshots/${snap.id}`)).status,
      (s) => s === 404,
      'the snapshot gone',
    );
    expect((await sim.storage.listSnapshots()).items.map((s) => s.id)).not.toContain(
      snap.status.outputs.backendId,
    );
  });

  it('resizes an instance once per request, running or stopped, and names a bad size', async () => {
    const vm = await created('instances', 'app', {
      image: 'ubuntu-24.04',
      size: 'small',
      network: networkId,
    });
    const backendId = vm.status.outputs.backendId as string;
    const key = { 'idempotency-key': `resize-${driver}-1` };
    const first = await send('POST', `/v1/instances/${vm.id}/resize`, { size: 'large' }, key);
    const retry = await send('POST', `/v1/instances/${vm.id}/resize`, { size: 'large' }, key);
    expect(first.status).toBe(202);
    expect(first.body.operation).toMatchObject({ verb: 'action', action: 'resize' });
    expect(retry.body).toEqual(first.body);
    const resized = (await settle(first.body.operation.id)).resource;
    expect(resized.spec.size).toBe('large');
    expect((await sim.compute.getInstance(backendId)).size).toBe('large');
    expect(effectsOn(backendId, 'resizeInstance')).toHaveLength(1);
    const same = await send('POST', `/v1/instances/${vm.id}/resize`, { size: 'large' });
    expect(same.status).toBe(200);
    expect(same.body.operation).toBeNull();

    await settle((await send('POST', `/v1/instances/${vm.id}/stop`)).body.operation.id);
    const stopped = await send('POST', `/v1/instances/${vm.id}/resize`, { size: 'medium' });
    expect(stopped.status).toBe(202);
    const after = (await settle(stopped.body.operation.id)).resource;
    expect(after.spec).toMatchObject({ size: 'medium', powerState: 'stopped' });
    const backend = await sim.compute.getInstance(backendId);
    expect(backend.size).toBe('medium');
    expect(backend.state).toMatch(/^stop/);
    expect(effectsOn(backendId, 'resizeInstance')).toHaveLength(2);

    const bad = await send('POST', `/v1/instances/${vm.id}/resize`, { size: 'galactic' });
    expect(bad.status).toBe(422);
    expect([...new Set(bad.body.errors.map((e: { path: string }) => e.path))]).toEqual(['/size']);
    const none = await send('POST', `/v1/instances/${vm.id}/resize`, {});
    expect(none.status).toBe(422);
    const patch = await h.app.inject({
      method: 'PATCH',
      url: `/v1/instances/${vm.id}`,
      headers: { [TENANT_HEADER]: 't1' },
      payload: { spec: { size: 'large' } },
    });
    expect(patch.statusCode).toBe(422);
    expect(patch.json().errors.map((e: { path: string }) => e.path)).toEqual(['/spec/size']);
    expect(effectsOn(backendId, 'resizeInstance')).toHaveLength(2);
    for (const [call, n] of effectsPerToken()) expect(n, call).toBe(1);
  });
});
