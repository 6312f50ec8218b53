// Passes scoped to changes (PassContext.changes), on real PostgreSQL and the in-process cloud,
// passes called by the test under in-process leadership: lb-sync woken by a load balancer's
// change, by an owner's change (also one that let go of its load balancer) and by an instance's
// change converges only what those touch, and to the same point a full pass reaches (a full
// pass after them writes nothing); autoscaling woken by one group's change sizes that group
// alone. A scoped lb-sync that forgets which load balancer an owner named before leaves the
// let-go owner's instances behind: the check sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { autoscalingController } from '../../src/controllers/autoscaling/controller.js';
import type {
  ControllerDefinition,
  PassChanges,
  PassContext,
} from '../../src/controllers/framework/define.js';
import { lbSyncController } from '../../src/controllers/lb-sync/controller.js';
import type { Resource } from '../../src/core/resources/resource.js';
import type { Queryable } from '../../src/ha/db/database.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { createSimBackends } from '../../src/sim/index.js';
import { type ControlHarness, openControlHarness, tenantClient } from '../control/harness.js';
import { until } from '../helpers/poll.js';

type Json = Record<string, unknown>;
const keys = new LeaderKeyRegistry();
const keyOf = { autoscaling: keys.register('autoscaling', 113), lbSync: keys.register('lb-sync', 112) };

/** Changes as the guard gives them. */
const changes = (byKind: Record<string, string[]>, owners: string[] = []): PassChanges => ({
  byKind: new Map(Object.entries(byKind).map(([k, ids]) => [k, new Set(ids)])),
  owners: new Set(owners),
});

describe('scoped passes (one process, real PostgreSQL)', () => {
  let h: ControlHarness;
  const sim = createSimBackends();
  let elector: MemoryElector;
  const terms = new Map<number, LeaderTerm>();

  const { send: req } = tenantClient(() => h);
  const pass = async (def: ControllerDefinition, scope?: PassChanges) => {
    let term = terms.get(def.leaderKey.id);
    if (!term || term.signal.aborted) {
      term = await elector.campaign(def.leaderKey, new AbortController().signal);
      terms.set(def.leaderKey.id, term);
    }
    const ctx: PassContext = {
      signal: term.signal,
      term,
      epoch: term.epoch,
      now: () => 1_900_000_000_000,
      db: h.db,
      fenced: (fn) => fencedTransaction(h.db, term, fn),
      ...(scope ? { changes: scope } : {}),
    };
    return def.pass(ctx);
  };
  const get = async (kind: string, id: string) =>
    (await req('GET', `/v1/${kind}/${id}`)).body as unknown as Resource;
  const children = async (group: string) =>
    ((await req('GET', `/v1/instances?owner=${group}`)).body.items as Resource[]).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
  const targets = async (lb: string) =>
    (((await get('load-balancers', lb)).spec as { targets: Array<{ instance: string }> }).targets ?? []).map(
      (t) => t.instance,
    );
  const isRunning = (k: Resource) => {
    const backendId = (k.status.outputs as { backendId?: string } | undefined)?.backendId ?? '';
    return k.status.phase === 'Ready' && sim.compute.peek(backendId)?.state === 'running';
  };
  const allRunning = async (group: string, n: number) => {
    const kids = await children(group);
    return kids.length === n && kids.every(isRunning);
  };
  /** Applied: Ready at its generation, so no reconcile job of it is still to write status. */
  const applied = async (kind: string, id: string) => {
    const r = await get(kind, id);
    const ready = r.status.conditions?.find((c) => c.type === 'Ready');
    return r.status.phase === 'Ready' && ready?.observedGeneration === r.generation;
  };
  /** Resource versions, read once every resource is applied. */
  const versions = async (ids: Array<[string, string]>) => {
    await until(
      async () => (await Promise.all(ids.map(([kind, id]) => applied(kind, id)))).every(Boolean),
      20_000,
      'applied',
    );
    return Promise.all(ids.map(async ([kind, id]) => (await get(kind, id)).resourceVersion));
  };

  /** A load balancer of the test's network; its id. */
  const newLoadBalancer = async (name: string, targets: unknown[] = []) =>
    (
      (
        await req('POST', '/v1/load-balancers', {
          name,
          spec: {
            network,
            listeners: [{ port: 80, protocol: 'http' }],
            algorithm: 'round-robin',
            healthCheck: { intervalSeconds: 5, healthyThreshold: 1, unhealthyThreshold: 1 },
            targets,
          },
        })
      ).body.resource as Resource
    ).id;

  let autoscaling: ControllerDefinition;
  let lbSync: ControllerDefinition;
  let network = '';
  let lb1 = '';
  let lb2 = '';
  let hand = '';

  beforeAll(async () => {
    h = await openControlHarness('pg', { ports: createBackends({ memory: sim }) });
    h.startWorker();
    elector = new MemoryElector('node-a', new MemoryLeadership(), h.db);
    const deps = { service: h.service, compute: h.ports.compute };
    autoscaling = autoscalingController({ leaderKey: keyOf.autoscaling, ...deps });
    lbSync = lbSyncController({ leaderKey: keyOf.lbSync, ...deps });
    network = (
      (await req('POST', '/v1/networks', { name: 'n1', spec: { cidr: '10.1.0.0/24' } })).body
        .resource as Resource
    ).id;
    hand = (
      (
        await req('POST', '/v1/instances', {
          name: 'by-hand',
          spec: { image: 'ubuntu-24.04', size: 'small', network },
        })
      ).body.resource as Resource
    ).id;
    lb1 = await newLoadBalancer('front', [{ instance: hand, port: 80, weight: 1 }]);
    lb2 = await newLoadBalancer('back');
  }, 60_000);
  afterAll(async () => {
    await elector?.close();
    await h?.close();
  });

  const group = (name: string, lb: string) => ({
    name,
    spec: {
      template: { image: 'ubuntu-24.04', instanceType: 'small', network },
      minSize: 1,
      maxSize: 4,
      desired: 2,
      loadBalancer: { id: lb, port: 8080 },
    },
  });

  it('converges what the changes touch, to where a full pass would, and nothing else', {
    timeout: 90_000,
  }, async () => {
    const a = ((await req('POST', '/v1/autoscaling-groups', group('a', lb1))).body.resource as Resource).id;
    const b = ((await req('POST', '/v1/autoscaling-groups', group('b', lb2))).body.resource as Resource).id;
    await pass(autoscaling);
    await until(
      async () => (await allRunning(a, 2)) && (await allRunning(b, 2)),
      30_000,
      'four running instances',
    );
    await pass(autoscaling);
    await pass(lbSync);
    const kidsA = (await children(a)).map((c) => c.id);
    const kidsB = (await children(b)).map((c) => c.id);
    expect(await targets(lb1)).toEqual([hand, ...kidsA]);
    expect(await targets(lb2)).toEqual(kidsB);

    // A target taken out by hand: a pass woken by that load balancer alone puts it back and
    // writes nothing else.
    await h.service.patch('t1', 'load-balancers', lb1, {
      spec: { targets: [{ instance: hand, port: 80, weight: 1 }] },
    });
    const [v2] = await versions([['load-balancers', lb2]]);
    await pass(lbSync, changes({ 'load-balancers': [lb1] }));
    expect(await targets(lb1)).toEqual([hand, ...kidsA]);
    expect(await versions([['load-balancers', lb2]])).toEqual([v2]);

    // Woken by changes that touch no load balancer: nothing is written.
    const before = await versions([
      ['load-balancers', lb1],
      ['load-balancers', lb2],
    ]);
    await pass(lbSync, changes({ instances: [hand] }));
    expect(
      await versions([
        ['load-balancers', lb1],
        ['load-balancers', lb2],
      ]),
    ).toEqual(before);

    // Group a lets go of lb1 for lb2: woken by the group alone, its instances leave lb1 (the
    // hand-set target stays) and join lb2.
    await h.service.patch('t1', 'autoscaling-groups', a, { spec: { loadBalancer: { id: lb2, port: 8080 } } });
    await pass(lbSync, changes({ 'autoscaling-groups': [a] }));
    expect(await targets(lb1)).toEqual([hand]);
    expect((await targets(lb2)).sort()).toEqual([...kidsA, ...kidsB].sort());

    // An instance of b stops: woken by it (and its owner), it leaves lb2.
    const stopped = kidsB[0]!;
    const stop = await req('POST', `/v1/instances/${stopped}/stop`, {});
    expect(stop.status).toBe(202);
    await until(
      async () => {
        const id =
          ((await get('instances', stopped)).status.outputs as { backendId?: string }).backendId ?? '';
        return sim.compute.peek(id)?.state === 'stopped';
      },
      20_000,
      'the instance stopped',
    );
    await pass(lbSync, changes({ instances: [stopped] }, [b]));
    expect(await targets(lb2)).not.toContain(stopped);
    expect((await targets(lb2)).length).toBe(3);

    // Autoscaling woken by b's change: b grows, a is not looked at.
    await h.service.patch('t1', 'autoscaling-groups', b, { spec: { desired: 3 } });
    const [va] = await versions([['autoscaling-groups', a]]);
    await pass(autoscaling, changes({ 'autoscaling-groups': [b] }));
    expect((await children(b)).map((c) => c.name)).toEqual(['b-0', 'b-1', 'b-2']);
    expect((await children(a)).length).toBe(2);
    expect(await versions([['autoscaling-groups', a]])).toEqual([va]);

    // The fixed point is a full pass's: one after them writes nothing.
    await until(async () => isRunning((await children(b))[2]!), 30_000, 'b-2 running');
    await pass(lbSync, changes({ instances: [(await children(b))[2]!.id] }, [b]));
    const scopedEnd = await versions([
      ['load-balancers', lb1],
      ['load-balancers', lb2],
    ]);
    await pass(lbSync);
    expect(
      await versions([
        ['load-balancers', lb1],
        ['load-balancers', lb2],
      ]),
    ).toEqual(scopedEnd);
    expect(await targets(lb2)).toContain((await children(b))[2]!.id);
  });

  it('a scoped lb-sync that does not remember what an owner named before leaves a let-go owner behind (the check sees it)', {
    timeout: 60_000,
  }, async () => {
    const c = ((await req('POST', '/v1/autoscaling-groups', group('c', lb1))).body.resource as Resource).id;
    await pass(autoscaling);
    await until(() => allRunning(c, 2), 30_000, 'c running');
    await pass(lbSync);
    const kidsC = (await children(c)).map((k) => k.id);
    expect(await targets(lb1)).toEqual(expect.arrayContaining(kidsC));
    await h.service.patch('t1', 'autoscaling-groups', c, { spec: { loadBalancer: { id: lb2, port: 8080 } } });
    // A controller of its own, whose first pass is a scoped one: it never saw c name lb1.
    const forgetful = lbSyncController({
      leaderKey: keyOf.lbSync,
      service: h.service,
      compute: h.ports.compute,
    });
    await pass(forgetful, changes({ 'autoscaling-groups': [c] }));
    const left = (await targets(lb1)).filter((t) => kidsC.includes(t));
    expect(() => expect(left).toEqual([])).toThrow();
    // The remembering controller's scoped pass takes them out.
    await pass(lbSync, changes({ 'autoscaling-groups': [c] }));
    expect((await targets(lb1)).filter((t) => kidsC.includes(t))).toEqual([]);
  });

  it('never writes a load balancer over a change made while its pass read (targets set by hand meanwhile)', {
    timeout: 60_000,
  }, async () => {
    const lb3 = await newLoadBalancer('third');
    const d = ((await req('POST', '/v1/autoscaling-groups', group('d', lb3))).body.resource as Resource).id;
    await pass(autoscaling);
    await until(() => allRunning(d, 2), 30_000, 'd running');
    await pass(lbSync);
    const kidsD = (await children(d)).map((k) => k.id);
    expect(await targets(lb3)).toEqual(kidsD);
    // lb-sync has a target to put back. The backend listing at the start of its pass does not
    // show d's second instance running yet (booting), so the pass reads that instance again
    // after it read lb3; meanwhile a user sets lb3's targets by hand (the one left and one more).
    await h.service.patch('t1', 'load-balancers', lb3, {
      spec: { targets: [{ instance: kidsD[0], port: 8080, weight: 1 }] },
    });
    const second = ((await get('instances', kidsD[1]!)).status.outputs as { backendId: string }).backendId;
    let raced = false;
    const compute = h.ports.compute;
    const racing = lbSyncController({
      leaderKey: keyOf.lbSync,
      service: h.service,
      compute: {
        ...compute,
        listInstances: async (o) => {
          const page = await compute.listInstances(o);
          return { ...page, items: page.items.filter((i) => i.id !== second) };
        },
        getInstance: async (id, o) => {
          if (id === second && !raced) {
            raced = true;
            await h.service.patch('t1', 'load-balancers', lb3, {
              spec: {
                targets: [
                  { instance: kidsD[0], port: 8080, weight: 1 },
                  { instance: hand, port: 80, weight: 1 },
                ],
              },
            });
          }
          return compute.getInstance(id, o);
        },
      },
    });
    await pass(racing);
    expect(raced).toBe(true);
    // The hand-set target stands; the pass woken by that change puts d's instance back beside it.
    expect(await targets(lb3)).toEqual([kidsD[0], hand]);
    await pass(lbSync, changes({ 'load-balancers': [lb3] }));
    expect((await targets(lb3)).sort()).toEqual([hand, ...kidsD].sort());
  });

  it('a full pass leaves alone a load balancer that a scoped pass beside its reads converged from newer ones', {
    timeout: 60_000,
  }, async () => {
    const lb4 = await newLoadBalancer('fourth');
    const e = ((await req('POST', '/v1/autoscaling-groups', group('e', lb4))).body.resource as Resource).id;
    await pass(autoscaling);
    await until(() => allRunning(e, 2), 30_000, 'e running');
    await pass(lbSync);
    const kidsE = (await children(e)).map((k) => k.id);
    expect(await targets(lb4)).toEqual(kidsE);
    await versions([['load-balancers', lb4]]);
    // e-0 crashes in the backend (its resource still says Ready).
    const crashed = kidsE[0]!;
    const crashedBackend = ((await get('instances', crashed)).status.outputs as { backendId: string })
      .backendId;
    sim.compute.crash(crashedBackend);
    // A full pass whose reads run long: its read of the load balancers waits until a scoped
    // pass beside it (woken by the crash) has taken e-0 out, and its backend reads are older
    // than the crash (they still show e-0 running).
    let stale = false;
    const compute = h.ports.compute;
    const sync = lbSyncController({
      leaderKey: keyOf.lbSync,
      service: h.service,
      compute: {
        ...compute,
        getInstance: async (id, o) => {
          const i = await compute.getInstance(id, o);
          return stale && id === crashedBackend ? { ...i, state: 'running' } : i;
        },
        listInstances: async (o) => {
          const page = await compute.listInstances(o);
          return stale
            ? {
                ...page,
                items: page.items.map((i) => (i.id === crashedBackend ? { ...i, state: 'running' } : i)),
              }
            : page;
        },
      },
    });
    let term = terms.get(keyOf.lbSync.id);
    if (!term || term.signal.aborted) {
      term = await elector.campaign(keyOf.lbSync, new AbortController().signal);
      terms.set(keyOf.lbSync.id, term);
    }
    const base = {
      signal: term.signal,
      term,
      epoch: term.epoch,
      now: () => 1_900_000_000_000,
      fenced: <T>(fn: (tx: Queryable) => Promise<T>) => fencedTransaction(h.db, term, fn),
    };
    await sync.pass({ ...base, db: h.db }); // it has seen every owner once
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const slowDb = new Proxy(h.db, {
      get(target, prop, receiver) {
        if (prop === 'query')
          return async (text: string, params?: unknown[]) => {
            if (params?.[0] === 'load-balancers') await gate;
            return target.query(text, params);
          };
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    let served = false;
    await sync.pass({
      ...base,
      db: slowDb,
      serveChangesWhile: async (work) => {
        await sync.pass({ ...base, db: h.db, changes: changes({ instances: [crashed] }, [e]) });
        served = true;
        expect(await targets(lb4)).toEqual([kidsE[1]]);
        stale = true;
        openGate();
        return work;
      },
    });
    expect(served).toBe(true);
    // The full pass saw e-0 running in its older reads, but lb4 is the scoped pass's.
    expect(await targets(lb4)).toEqual([kidsE[1]]);
  });
});
