// The instances kind's actions (stop, start, reboot) through HTTP, reconciled against the
// in-process simulator, whose audit counts the effects: at most one per client token, and one
// reboot per reboot request.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { INSTANCE_TYPES } from '../../src/core/catalogue/instance-types.js';
import type { Resource } from '../../src/core/resources/resource.js';
import { instances } from '../../src/kinds/instances/index.js';
import { createSimBackends, type SimBackends } from '../../src/sim/index.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, type Json, openControlHarness, tenantClient } from './harness.js';

describe.each(drivers)('instance actions on %s', (driver) => {
  let h: ControlHarness;
  const { send, settle } = tenantClient(() => h);
  let sim: SimBackends;
  let networkId: string;
  beforeAll(async () => {
    sim = createSimBackends();
    h = await openControlHarness(driver, { ports: createBackends({ memory: sim }) });
    h.startWorker();
    const net = await send('POST', '/v1/networks', { name: 'lan', spec: { cidr: '10.1.0.0/24' } });
    networkId = net.body.resource.id;
    await settle(net.body.operation.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const createdInstance = async (name: string) => {
    const res = await send('POST', '/v1/instances', {
      name,
      spec: { image: 'ubuntu-24.04', size: 'small', network: networkId },
    });
    expect(res.status).toBe(202);
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

  it('stops and starts an instance, once each, and a repeat is a 200 with nothing done', async () => {
    const vm = await createdInstance('web');
    const backendId = vm.status.outputs.backendId as string;
    const stop = await send('POST', `/v1/instances/${vm.id}/stop`);
    expect(stop.status).toBe(202);
    expect(stop.body.operation).toMatchObject({ verb: 'action', action: 'stop' });
    const stopped = (await settle(stop.body.operation.id)).resource;
    expect(stopped.spec.powerState).toBe('stopped');
    expect(['stopping', 'stopped']).toContain(stopped.status.outputs.powerState);
    expect((await sim.compute.getInstance(backendId)).state).toMatch(/^stop/);
    const again = await send('POST', `/v1/instances/${vm.id}/stop`);
    expect(again.status).toBe(200);
    expect(again.body.operation).toBeNull();

    const start = await send('POST', `/v1/instances/${vm.id}/start`);
    expect(start.status).toBe(202);
    const started = (await settle(start.body.operation.id)).resource;
    expect(['booting', 'running']).toContain(started.status.outputs.powerState);
    expect(effectsOn(backendId, 'stopInstance')).toHaveLength(1);
    expect(effectsOn(backendId, 'startInstance')).toHaveLength(1);
    for (const [call, n] of effectsPerToken()) expect(n, call).toBe(1);
  });

  it('reboots once per request, replays a retried request, and refuses a stopped instance', async () => {
    const vm = await createdInstance('db');
    const backendId = vm.status.outputs.backendId as string;
    const key = { 'idempotency-key': `reboot-${driver}-1` };
    const first = await send('POST', `/v1/instances/${vm.id}/reboot`, undefined, key);
    const retry = await send('POST', `/v1/instances/${vm.id}/reboot`, undefined, key);
    expect(first.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    const rebooted = (await settle(first.body.operation.id)).resource;
    expect(rebooted.spec.rebootCount).toBe(1);
    expect(rebooted.status.outputs.rebootCount).toBe(1);
    expect(effectsOn(backendId, 'stopInstance')).toHaveLength(1);
    expect(effectsOn(backendId, 'startInstance')).toHaveLength(1);

    const second = await send('POST', `/v1/instances/${vm.id}/reboot`);
    expect(second.status).toBe(202);
    expect((await settle(second.body.operation.id)).resource.status.outputs.rebootCount).toBe(2);
    expect(effectsOn(backendId, 'startInstance')).toHaveLength(2);

    await settle((await send('POST', `/v1/instances/${vm.id}/stop`)).body.operation.id);
    const refused = await send('POST', `/v1/instances/${vm.id}/reboot`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ACTION_REFUSED');
    expect(refused.body.detail).toContain(`${vm.id} is stopped`);
    for (const [call, n] of effectsPerToken()) expect(n, call).toBe(1);
  });

  it('names the fields a PATCH may not change and a user data over the bound', async () => {
    const vm = await createdInstance('cache');
    for (const field of ['powerState', 'rebootCount'] as const) {
      const res = await send('PATCH', `/v1/instances/${vm.id}`, {
        spec: { [field]: field === 'powerState' ? 'stopped' : 3 },
      });
      expect(res.status, field).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([`/spec/${field}`]);
    }
    const big = await send('POST', '/v1/instances', {
      name: 'big',
      spec: { image: 'u', size: 'small', network: networkId, userData: 'x'.repeat(16_385) },
    });
    expect(big.status).toBe(422);
    expect(big.body.errors.map((e: { path: string }) => e.path)).toEqual(['/spec/userData']);
    expect((await send('POST', `/v1/instances/${vm.id}/stop`, { force: true })).status).toBe(422);
  });

  it('lists the instance-type catalogue, and a size outside it is a 422 naming the field', async () => {
    const res = await send('GET', '/v1/instance-types');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(INSTANCE_TYPES);
    const sizes = res.body.items.map((t: { name: string }) => t.name);
    expect(sizes).toContain('xlarge');
    const vm = await send('POST', '/v1/instances', {
      name: 'xl',
      spec: { image: 'u', size: 'xlarge', network: networkId },
    });
    expect(vm.status).toBe(202);
    expect((await settle(vm.body.operation.id)).resource.status.phase).toBe('Ready');
    const bad = await send('POST', '/v1/instances', {
      name: 'huge',
      spec: { image: 'u', size: 'huge', network: networkId },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain('/spec/size');
  });

  it('takes one address per instance however many passes find it unattached', async () => {
    // Two passes of different generations over an instance whose first status write was lost
    // (a crash right after the backend calls): each finds it by its label with no address. A
    // second generation exists, so the label lookup runs (at generation 1 the create's client
    // token stands in for it).
    const vm = await createdInstance('twice');
    const resource = {
      ...(vm as Resource),
      generation: 2,
      status: { ...vm.status, outputs: undefined },
    } as never;
    const driverOf = instances.driver(h.ports);
    const ctx = (clientToken: string) => ({
      clientToken,
      fencingToken: 1_000,
      signal: new AbortController().signal,
      reference: async () => (await send('GET', `/v1/networks/${networkId}`)).body as Resource,
    });
    for (const token of ['pass-a', 'pass-b']) {
      const observed = await driverOf.observe(resource, ctx(token));
      expect(observed.exists && observed.upToDate).toBe(false);
      if (!observed.exists) throw new Error('the instance is gone');
      const outputs = await driverOf.update(resource, observed.outputs, ctx(token));
      expect(outputs.address).toBe(vm.status.outputs.address);
    }
    const allocations = sim.cloud.audit
      .filter((e) => e.outcome === 'created')
      .filter((e) => e.op === 'allocateIp' && e.clientToken.startsWith(vm.id));
    expect(allocations).toHaveLength(1);
  });
});
