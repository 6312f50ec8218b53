// Autoscaling groups end to end in one process, on real PostgreSQL and the in-process simulated
// cloud, with the controllers' passes called by the test under in-process leadership and an
// injected clock (no sleeps): the 422s of bad groups, children created as owned instances,
// the load balancer following them, CPU up → out, down → in after the cooldown, a crashed
// instance healed, a deposed leader refused by the fence, and the group's delete taking its
// children first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { autoscalingController } from '../../src/controllers/autoscaling/controller.js';
import type { ControllerDefinition, PassContext } from '../../src/controllers/framework/define.js';
import { healingController } from '../../src/controllers/healing/controller.js';
import { lbSyncController } from '../../src/controllers/lb-sync/controller.js';
import type { Resource } from '../../src/core/resources/resource.js';
import { isLeadershipLostError, isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { createSimBackends } from '../../src/sim/index.js';
import { type ControlHarness, openControlHarness, tenantClient } from '../control/harness.js';
import { until } from '../helpers/poll.js';

type Json = Record<string, unknown>;
const keys = new LeaderKeyRegistry();
const keyOf = {
  autoscaling: keys.register('autoscaling', 113),
  lbSync: keys.register('lb-sync', 112),
  healing: keys.register('healing', 115),
};

describe('autoscaling groups (one process, real PostgreSQL)', () => {
  let h: ControlHarness;
  const sim = createSimBackends();
  let space: MemoryLeadership;
  let elector: MemoryElector;
  let now = 1_900_000_000_000;
  const terms = new Map<number, LeaderTerm>();

  const { send: req } = tenantClient(() => h);
  const ctxOf = (term: LeaderTerm): PassContext => ({
    signal: term.signal,
    term,
    epoch: term.epoch,
    now: () => now,
    db: h.db,
    fenced: (fn) => fencedTransaction(h.db, term, fn),
  });
  const pass = async (def: ControllerDefinition) => {
    let term = terms.get(def.leaderKey.id);
    if (!term || term.signal.aborted) {
      term = await elector.campaign(def.leaderKey, new AbortController().signal);
      terms.set(def.leaderKey.id, term);
    }
    return def.pass(ctxOf(term));
  };
  const children = async (group: string) =>
    ((await req('GET', `/v1/instances?owner=${group}`)).body.items as Resource[]).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
  const backendOf = (r: Resource) => (r.status.outputs as { backendId?: string } | undefined)?.backendId;
  const allRunning = async (group: string, n: number) => {
    const kids = await children(group);
    return (
      kids.length === n &&
      kids.every(
        (k) => k.status.phase === 'Ready' && sim.compute.peek(backendOf(k) ?? '')?.state === 'running',
      )
    );
  };

  let autoscaling: ControllerDefinition;
  let lbSync: ControllerDefinition;
  let healing: ControllerDefinition;
  let network = '';
  let lb = '';

  beforeAll(async () => {
    h = await openControlHarness('pg', { ports: createBackends({ memory: sim }) });
    h.startWorker();
    space = new MemoryLeadership();
    elector = new MemoryElector('node-a', space, h.db);
    const deps = { service: h.service, compute: h.ports.compute };
    autoscaling = autoscalingController({ leaderKey: keyOf.autoscaling, ...deps });
    lbSync = lbSyncController({ leaderKey: keyOf.lbSync, ...deps });
    healing = healingController({
      leaderKey: keyOf.healing,
      ...deps,
      limits: { backoffMs: 1_000, maxRestarts: 2 },
    });
    const net = await req('POST', '/v1/networks', { name: 'n1', spec: { cidr: '10.1.0.0/24' } });
    network = (net.body.resource as Resource).id;
    const other = await req('POST', '/v1/networks', { name: 'n2', spec: { cidr: '10.2.0.0/24' } });
    const lbBody = (net: string, name: string) => ({
      name,
      spec: {
        network: net,
        listeners: [{ port: 80, protocol: 'http' }],
        algorithm: 'round-robin',
        healthCheck: { intervalSeconds: 5, healthyThreshold: 1, unhealthyThreshold: 1 },
        targets: [],
      },
    });
    lb = ((await req('POST', '/v1/load-balancers', lbBody(network, 'front'))).body.resource as Resource).id;
    await req('POST', '/v1/load-balancers', lbBody((other.body.resource as Resource).id, 'elsewhere'));
  }, 60_000);
  afterAll(async () => {
    await elector?.close();
    await h?.close();
  });

  const group = (over: Json = {}) => ({
    name: 'web',
    spec: {
      template: { image: 'ubuntu-24.04', instanceType: 'small', network },
      minSize: 1,
      maxSize: 4,
      desired: 2,
      loadBalancer: { id: lb, port: 8080 },
      policy: { targetCpuPercent: 50, cooldownSeconds: 60 },
      ...over,
    },
  });

  it('answers 422 naming the field for bad sizes and references, 409 for a load balancer on another network', async () => {
    const paths = async (body: Json, status = 422) => {
      const res = await req('POST', '/v1/autoscaling-groups', body);
      expect(res.status).toBe(status);
      return [...new Set((res.body.errors as Array<{ path: string }>).map((e) => e.path))];
    };
    expect(await paths(group({ minSize: 3, maxSize: 2, desired: 2 }))).toEqual(['/spec/minSize']);
    expect(await paths(group({ desired: 9 }))).toEqual(['/spec/desired']);
    expect(await paths(group({ maxSize: 101 }))).toEqual(['/spec/maxSize']);
    expect(await paths(group({ template: { image: 'u', instanceType: 'huge', network } }))).toEqual([
      '/spec/template/instanceType',
    ]);
    expect(
      await paths(
        group({ template: { image: 'u', instanceType: 'small', network: 'net_00000000000000000000000000' } }),
      ),
    ).toEqual(['/spec/template/network']);
    const elsewhere = ((await req('GET', '/v1/load-balancers')).body.items as Resource[]).find(
      (r) => r.name === 'elsewhere',
    )!;
    expect(await paths(group({ loadBalancer: { id: elsewhere.id, port: 8080 } }), 409)).toEqual([
      '/spec/loadBalancer/id',
    ]);
    expect(((await req('GET', '/v1/autoscaling-groups')).body.items as unknown[]).length).toBe(0);
  });

  it('converges, scales out and in on CPU with cooldown, heals a crash, refuses a deposed leader, and deletes its children first', {
    timeout: 60_000,
  }, async () => {
    const created = await req('POST', '/v1/autoscaling-groups', group());
    expect(created.status).toBe(202);
    const id = (created.body.resource as Resource).id;
    // A scale outside the bounds is refused naming the field; nothing changes.
    const scale = await req('POST', `/v1/autoscaling-groups/${id}/scale`, { desired: 7 });
    expect(scale.status).toBe(422);
    expect((scale.body.errors as Array<{ path: string }>)[0]!.path).toBe('/spec/desired');

    await pass(autoscaling);
    const first = await children(id);
    expect(first.map((c) => [c.name, c.owner, c.spec.size])).toEqual([
      ['web-0', id, 'small'],
      ['web-1', id, 'small'],
    ]);
    await until(() => allRunning(id, 2), 20_000, 'two running instances');
    // A second pass over the same world writes nothing. The world must first stop moving: the
    // group's own create job done, its children running, and one pass to report that.
    const operation = (created.body.operation as { id: string }).id;
    expect((await req('GET', `/v1/operations/${operation}?wait=20s`)).body.state).toBe('succeeded');
    await pass(autoscaling);
    const version = (await req('GET', `/v1/autoscaling-groups/${id}`)).body.resourceVersion;
    await pass(autoscaling);
    expect((await children(id)).length).toBe(2);
    expect((await req('GET', `/v1/autoscaling-groups/${id}`)).body.resourceVersion).toBe(version);

    await pass(lbSync);
    const targets = async () =>
      (
        ((await req('GET', `/v1/load-balancers/${lb}`)).body.spec as Json).targets as Array<{
          instance: string;
        }>
      ).map((t) => t.instance);
    expect(await targets()).toEqual((await children(id)).map((c) => c.id).sort());

    // Hot: out to ceil(2 × 90 / 50) = 4 once the cooldown since the creation has passed.
    for (const c of await children(id)) sim.compute.setLoad(backendOf(c)!, { cpu: 0.9 });
    now += 30_000;
    await pass(autoscaling);
    expect((await children(id)).length).toBe(2);
    now += 30_000;
    await pass(autoscaling);
    expect((await children(id)).map((c) => c.name)).toEqual(['web-0', 'web-1', 'web-2', 'web-3']);
    const status = async () =>
      ((await req('GET', `/v1/autoscaling-groups/${id}`)).body.status as { outputs: { scaling: Json } })
        .outputs.scaling;
    expect(((await status()).decisions as Json[]).map((d) => [d.reason, d.from, d.to])).toEqual([
      ['Created', 0, 2],
      ['CpuAboveTarget', 2, 4],
    ]);

    // A deposed leader's pass is refused by the fence and creates nothing.
    const deposed = terms.get(keyOf.autoscaling.id)!;
    space.revoke(keyOf.autoscaling.id);
    await until(() => deposed.signal.aborted, 5_000, 'the term to end');
    await h.service.patch('t1', 'autoscaling-groups', id, { spec: { maxSize: 4, desired: 3 } });
    await expect(autoscaling.pass(ctxOf(deposed))).rejects.toSatisfy(
      (err: unknown) => isStaleEpochError(err) || isLeadershipLostError(err),
    );
    expect((await children(id)).length).toBe(4);
    await pass(autoscaling); // the successor: the spec says 3
    expect((await children(id)).filter((c) => !c.deletionRequestedAt).length).toBe(3);

    // A crash: healing restarts it through a reboot generation.
    await until(() => allRunning(id, 3), 20_000, 'three running instances');
    const victim = (await children(id))[0]!;
    sim.compute.crash(backendOf(victim)!);
    await pass(healing);
    await until(
      async () => {
        const r = (await req('GET', `/v1/instances/${victim.id}`)).body as unknown as Resource;
        return r.generation > victim.generation && sim.compute.peek(backendOf(r)!)?.state === 'running';
      },
      20_000,
      'the crashed instance running again',
    );
    // Lb-sync follows: the three serving instances, nothing else.
    await until(() => allRunning(id, 3), 20_000, 'three running instances');
    await pass(lbSync);
    expect(await targets()).toEqual((await children(id)).map((c) => c.id).sort());

    // Cold: in after the cooldown, to ceil(3 × 5 / 50) = 1, never below minSize.
    for (const c of await children(id)) sim.compute.setLoad(backendOf(c)!, { cpu: 0.05 });
    now += 1_000;
    await pass(autoscaling);
    expect((await children(id)).filter((c) => !c.deletionRequestedAt).length).toBe(3);
    now += 60_000;
    await pass(autoscaling);
    expect((await children(id)).filter((c) => !c.deletionRequestedAt).map((c) => c.name)).toEqual(['web-0']);
    expect(((await status()).decisions as Json[]).at(-1)).toMatchObject({ reason: 'CpuBelowTarget', to: 1 });

    // The group's delete marks its children deleted first; lb-sync lets go of them; all go.
    expect((await req('DELETE', `/v1/autoscaling-groups/${id}`)).status).toBe(202);
    expect((await children(id)).every((c) => c.deletionRequestedAt !== null)).toBe(true);
    await pass(lbSync);
    expect(await targets()).toEqual([]);
    await until(
      async () =>
        (await req('GET', `/v1/autoscaling-groups/${id}`)).status === 404 &&
        (await children(id)).length === 0,
      30_000,
      'the group and its instances gone',
    );
  });
});
