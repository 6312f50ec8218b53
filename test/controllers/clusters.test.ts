// Clusters end to end in one process, on real PostgreSQL and the in-process simulated cloud, the
// reconcile worker running and the cluster reconciler's and lb-sync's passes called by the test
// under in-process leadership: bad clusters are 422s naming the field; a cluster gets its
// endpoint, its control plane behind it and its workers; a settled pass writes nothing; a
// scale grows a node group; an upgrade replaces one node at a time in the whole cluster and
// never runs fewer nodes than wanted (judged on a sample after every pass); a repair replaces a
// crashed node; a deposed leader is refused; a delete takes the children first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { clustersController } from '../../src/controllers/clusters/controller.js';
import { CONTROL_PLANE, nodeImage, POOL_LABEL } from '../../src/controllers/clusters/plan.js';
import { type RolloutSample, rolloutViolations } from '../../src/controllers/deployments/plan.js';
import type { ControllerDefinition, PassContext } from '../../src/controllers/framework/define.js';
import { lbSyncController } from '../../src/controllers/lb-sync/controller.js';
import type { Resource } from '../../src/core/resources/resource.js';
import { isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { createSimBackends } from '../../src/sim/index.js';
import { type ControlHarness, openControlHarness, tenantClient } from '../control/harness.js';
import { until } from '../helpers/poll.js';

type Json = Record<string, unknown>;
const registry = new LeaderKeyRegistry();
const key = registry.register('clusters', 121);
const lbKey = registry.register('lb-sync', 112);

interface Pool {
  name: string;
  desired: number;
  ready: number;
  updated: number;
  available: number;
}
interface Outputs {
  phase: string;
  reason: string;
  endpoint?: string;
  kubeconfig?: string;
  loadBalancer?: string;
  controlPlane: Pool;
  nodeGroups: Pool[];
}

describe('clusters (one process, real PostgreSQL)', () => {
  let h: ControlHarness;
  const sim = createSimBackends();
  let elector: MemoryElector;
  let term: LeaderTerm;
  let lbTerm: LeaderTerm;
  let controller: ControllerDefinition;
  let lbSync: ControllerDefinition;
  let network = '';

  const { send: req } = tenantClient(() => h);
  const ctxOf = (t: LeaderTerm): PassContext => ({
    signal: t.signal,
    term: t,
    epoch: t.epoch,
    now: () => Date.now(),
    db: h.db,
    fenced: (fn) => fencedTransaction(h.db, t, fn),
  });
  const pass = async () => {
    await controller.pass(ctxOf(term));
    await lbSync.pass(ctxOf(lbTerm));
  };
  const nodes = async (id: string) =>
    ((await req('GET', `/v1/instances?owner=${id}&limit=500`)).body.items as Resource[]).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
  const backendOf = (r: Resource) => (r.status.outputs as { backendId?: string } | undefined)?.backendId;
  const isRunning = (r: Resource) => sim.compute.peek(backendOf(r) ?? '')?.state === 'running';
  const outputsOf = async (id: string) =>
    ((await req('GET', `/v1/clusters/${id}`)).body.status as { outputs: Outputs }).outputs;
  const settled = async (id: string, version: string, sizes: { cp: number; workers: number }) => {
    const o = await outputsOf(id);
    const kids = await nodes(id);
    const live = kids.filter((k) => !k.deletionRequestedAt);
    return (
      o?.phase === 'ready' &&
      o.controlPlane.ready === sizes.cp &&
      o.nodeGroups[0]?.ready === sizes.workers &&
      kids.length === sizes.cp + sizes.workers &&
      live.every((k) => k.spec.image === nodeImage(version) && isRunning(k))
    );
  };
  const targets = async (lb: string) =>
    (
      ((await req('GET', `/v1/load-balancers/${lb}`)).body.spec as Json).targets as {
        instance: string;
        port: number;
      }[]
    )
      .map((t) => `${t.instance}:${t.port}`)
      .sort();
  const cpTargets = async (id: string) =>
    (await nodes(id))
      .filter((n) => n.labels[POOL_LABEL] === CONTROL_PLANE && !n.deletionRequestedAt && isRunning(n))
      .map((n) => `${n.id}:6443`)
      .sort();

  beforeAll(async () => {
    h = await openControlHarness('pg', { ports: createBackends({ memory: sim }) });
    h.startWorker();
    elector = new MemoryElector('node-a', new MemoryLeadership(), h.db);
    term = await elector.campaign(key, new AbortController().signal);
    lbTerm = await elector.campaign(lbKey, new AbortController().signal);
    controller = clustersController({ leaderKey: key, service: h.service, compute: h.ports.compute });
    lbSync = lbSyncController({ leaderKey: lbKey, service: h.service, compute: h.ports.compute });
    const net = await req('POST', '/v1/networks', { name: 'n1', spec: { cidr: '10.6.0.0/24' } });
    network = (net.body.resource as Resource).id;
  }, 60_000);
  afterAll(async () => {
    await elector?.close();
    await h?.close();
  });

  const cluster = (over: Json = {}, group: Json = {}) => ({
    name: 'prod',
    spec: {
      version: '1.30',
      network,
      controlPlane: { replicas: 3, instanceType: 'small' },
      nodeGroups: [{ name: 'workers', instanceType: 'small', minSize: 1, maxSize: 4, desired: 2, ...group }],
      ...over,
    },
  });

  it('answers 422 naming the field for bad versions, sizes and node groups, and creates nothing', async () => {
    const paths = async (body: Json) => {
      const res = await req('POST', '/v1/clusters', body);
      expect(res.status).toBe(422);
      return [...new Set((res.body.errors as Array<{ path: string }>).map((e) => e.path))];
    };
    expect(await paths(cluster({ version: '1.28' }))).toEqual(['/spec/version']);
    expect(await paths(cluster({ controlPlane: { replicas: 2, instanceType: 'small' } }))).toEqual([
      '/spec/controlPlane/replicas',
    ]);
    expect(await paths(cluster({}, { minSize: 3, maxSize: 2 }))).toEqual(['/spec/nodeGroups/0/minSize']);
    expect(await paths(cluster({}, { desired: 5 }))).toEqual(['/spec/nodeGroups/0/desired']);
    expect(await paths(cluster({}, { name: 'cp' }))).toEqual(['/spec/nodeGroups/0/name']);
    const twice = { name: 'a', instanceType: 'small', minSize: 0, maxSize: 1, desired: 1 };
    expect(await paths(cluster({ nodeGroups: [twice, twice] }))).toEqual(['/spec/nodeGroups/1/name']);
    expect(await paths(cluster({ network: 'net_00000000000000000000000000' }))).toEqual(['/spec/network']);
    expect(((await req('GET', '/v1/clusters')).body.items as unknown[]).length).toBe(0);
  });

  it('provisions, scales, upgrades one node at a time, repairs, refuses a deposed leader, and deletes children first', {
    timeout: 120_000,
  }, async () => {
    const created = await req('POST', '/v1/clusters', cluster());
    expect(created.status).toBe(202);
    const c = created.body.resource as Resource;
    await until(
      async () => {
        await pass();
        return settled(c.id, '1.30', { cp: 3, workers: 2 });
      },
      60_000,
      'the cluster ready',
      100,
    );
    let o = await outputsOf(c.id);
    expect(o.endpoint).toMatch(/^https:\/\/.+:6443$/);
    expect(o.kubeconfig).toContain(`server: ${o.endpoint}`);
    expect(o.kubeconfig).not.toMatch(/token|password|client-key/);
    expect((await nodes(c.id)).map((n) => [n.labels[POOL_LABEL], n.spec.size])).toEqual([
      ['cp', 'small'],
      ['cp', 'small'],
      ['cp', 'small'],
      ['workers', 'small'],
      ['workers', 'small'],
    ]);
    // The endpoint's load balancer forwards to the running control plane, and only to it.
    await until(
      async () => {
        await pass();
        return JSON.stringify(await targets(o.loadBalancer!)) === JSON.stringify(await cpTargets(c.id));
      },
      20_000,
      'the endpoint on the control plane',
      100,
    );
    expect(await targets(o.loadBalancer!)).toHaveLength(3);
    // A pass over a settled cluster writes nothing.
    await pass();
    const version = (await req('GET', `/v1/clusters/${c.id}`)).body.resourceVersion;
    await pass();
    expect((await req('GET', `/v1/clusters/${c.id}`)).body.resourceVersion).toBe(version);

    // Scale: outside the group's bounds a 422, an unknown group a 409; within them, a third worker.
    const over = await req('POST', `/v1/clusters/${c.id}/scale`, { nodeGroup: 'workers', desired: 9 });
    expect(over.status).toBe(422);
    expect((await req('POST', `/v1/clusters/${c.id}/scale`, { nodeGroup: 'gpu', desired: 1 })).status).toBe(
      409,
    );
    expect(
      (await req('POST', `/v1/clusters/${c.id}/scale`, { nodeGroup: 'workers', desired: 3 })).status,
    ).toBe(202);
    await until(
      async () => {
        await pass();
        return settled(c.id, '1.30', { cp: 3, workers: 3 });
      },
      60_000,
      'three workers',
      100,
    );

    // Upgrade: no downgrade; to 1.31 one node at a time in the whole cluster, never fewer running
    // than wanted, the control plane first.
    expect((await req('POST', `/v1/clusters/${c.id}/upgrade`, { version: '1.29' })).status).toBe(409);
    expect((await req('POST', `/v1/clusters/${c.id}/upgrade`, { version: '1.31' })).status).toBe(202);
    const samples: RolloutSample[] = [];
    const order: string[] = [];
    await until(
      async () => {
        await pass();
        const kids = (await nodes(c.id)).filter((k) => !k.deletionRequestedAt && k.status.phase !== 'Failed');
        samples.push({ live: kids.length, running: kids.filter(isRunning).length });
        for (const k of kids)
          if (k.spec.image === nodeImage('1.31') && !order.includes(k.labels[POOL_LABEL]!))
            order.push(k.labels[POOL_LABEL]!);
        return settled(c.id, '1.31', { cp: 3, workers: 3 });
      },
      90_000,
      'every node on 1.31',
      100,
    );
    expect(rolloutViolations(samples, { replicas: 6, maxSurge: 1, maxUnavailable: 0 })).toEqual([]);
    expect(Math.max(...samples.map((s) => s.live))).toBe(7);
    expect(order).toEqual(['cp', 'workers']);
    o = await outputsOf(c.id);
    expect(o.phase).toBe('ready');
    await until(
      async () => {
        await pass();
        return JSON.stringify(await targets(o.loadBalancer!)) === JSON.stringify(await cpTargets(c.id));
      },
      20_000,
      'the endpoint on the new control plane',
      100,
    );

    // Repair: a crashed worker (healing does not run here) is replaced in its slot.
    const worker = (await nodes(c.id)).find((n) => n.labels[POOL_LABEL] === 'workers')!;
    sim.compute.crash(backendOf(worker)!);
    expect((await req('POST', `/v1/clusters/${c.id}/repair`)).status).toBe(202);
    await until(
      async () => {
        await pass();
        const kids = await nodes(c.id);
        return !kids.some((k) => k.id === worker.id) && (await settled(c.id, '1.31', { cp: 3, workers: 3 }));
      },
      60_000,
      'the crashed worker replaced',
      100,
    );
    expect((await nodes(c.id)).map((n) => n.name)).toContain(worker.name);

    // A deposed leader's pass is refused by the fence and creates nothing.
    const deposed = term;
    term = await new MemoryElector('node-b', new MemoryLeadership(), h.db).campaign(
      key,
      new AbortController().signal,
    );
    expect(
      (await req('POST', `/v1/clusters/${c.id}/scale`, { nodeGroup: 'workers', desired: 4 })).status,
    ).toBe(202);
    const refused = await controller.pass(ctxOf(deposed)).catch((e) => e);
    expect(isStaleEpochError(refused)).toBe(true);
    expect(await nodes(c.id)).toHaveLength(6);

    // Delete: the nodes and the load balancer go first, then the cluster.
    expect((await req('DELETE', `/v1/clusters/${c.id}`)).status).toBe(202);
    await until(
      async () => {
        await lbSync.pass(ctxOf(lbTerm));
        return (await req('GET', `/v1/clusters/${c.id}`)).status === 404;
      },
      60_000,
      'the cluster gone',
      100,
    );
    expect(await nodes(c.id)).toEqual([]);
    expect((await req('GET', `/v1/load-balancers/${o.loadBalancer}`)).status).toBe(404);
  });
});
