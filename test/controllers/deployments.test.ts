// Deployments end to end in one process, on real PostgreSQL and the in-process simulated cloud,
// the controller's passes called by the test under in-process leadership: the 422s of bad
// deployments, replicas created as owned instances with deterministic names, a pass over a
// settled deployment writing nothing, a new image rolled out within maxSurge and maxUnavailable
// (judged by the rollout audit on a sample after every pass), a Failed replica replaced in its
// slot, a scale-in keeping the low slots, and a deposed leader refused by the fence.
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { deploymentsController } from '../../src/controllers/deployments/controller.js';
import {
  parseReplica,
  planDeployment,
  type RolloutSample,
  replicaPrefix,
  revisionOf,
  rolloutViolations,
} from '../../src/controllers/deployments/plan.js';
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
const key = new LeaderKeyRegistry().register('deployments', 114);

describe('deployments (one process, real PostgreSQL)', () => {
  let h: ControlHarness;
  const sim = createSimBackends();
  let elector: MemoryElector;
  let term: LeaderTerm;
  let controller: ControllerDefinition;
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
  const pass = () => controller.pass(ctxOf(term));
  const replicas = async (id: string) =>
    ((await req('GET', `/v1/instances?owner=${id}&limit=500`)).body.items as Resource[]).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
  const backendOf = (r: Resource) => (r.status.outputs as { backendId?: string } | undefined)?.backendId;
  const isRunning = (r: Resource) => sim.compute.peek(backendOf(r) ?? '')?.state === 'running';
  const sample = async (id: string): Promise<RolloutSample> => {
    const kids = (await replicas(id)).filter((k) => !k.deletionRequestedAt && k.status.phase !== 'Failed');
    return { live: kids.length, running: kids.filter(isRunning).length };
  };
  const settledOn = async (id: string, image: string, n: number) => {
    const kids = await replicas(id);
    return (
      kids.length === n &&
      kids.every((k) => k.spec.image === image && k.status.phase === 'Ready' && isRunning(k))
    );
  };

  beforeAll(async () => {
    h = await openControlHarness('pg', { ports: createBackends({ memory: sim }) });
    h.startWorker();
    elector = new MemoryElector('node-a', new MemoryLeadership(), h.db);
    term = await elector.campaign(key, new AbortController().signal);
    controller = deploymentsController({ leaderKey: key, service: h.service, compute: h.ports.compute });
    const net = await req('POST', '/v1/networks', { name: 'n1', spec: { cidr: '10.4.0.0/24' } });
    network = (net.body.resource as Resource).id;
  }, 60_000);
  afterAll(async () => {
    await elector?.close();
    await h?.close();
  });

  const deployment = (over: Json = {}) => ({
    name: 'web',
    spec: { image: 'nginx:1.27', replicas: 3, instanceType: 'small', network, ...over },
  });

  it('answers 422 naming the field for bad replicas, strategy and network, and creates nothing', async () => {
    const paths = async (body: Json) => {
      const res = await req('POST', '/v1/deployments', body);
      expect(res.status).toBe(422);
      return [...new Set((res.body.errors as Array<{ path: string }>).map((e) => e.path))];
    };
    expect(await paths(deployment({ replicas: 101 }))).toEqual(['/spec/replicas']);
    expect(await paths(deployment({ strategy: { maxSurge: 0, maxUnavailable: 0 } }))).toEqual([
      '/spec/strategy/maxSurge',
    ]);
    expect(await paths(deployment({ image: 'Nginx Latest' }))).toEqual(['/spec/image']);
    expect(await paths(deployment({ network: 'net_00000000000000000000000000' }))).toEqual(['/spec/network']);
    expect(((await req('GET', '/v1/deployments')).body.items as unknown[]).length).toBe(0);
  });

  it('runs its replicas, rolls a new image out within its bounds, replaces a failed replica, scales in, and refuses a deposed leader', {
    timeout: 90_000,
  }, async () => {
    const created = await req('POST', '/v1/deployments', deployment());
    expect(created.status).toBe(202);
    const d = created.body.resource as Resource;
    const prefix = replicaPrefix(d.name);
    const rev1 = revisionOf(d.spec as never);
    await pass();
    expect((await replicas(d.id)).map((r) => [r.name, r.owner, r.spec.image])).toEqual([
      [`web-${rev1}-0`, d.id, 'nginx:1.27'],
      [`web-${rev1}-1`, d.id, 'nginx:1.27'],
      [`web-${rev1}-2`, d.id, 'nginx:1.27'],
    ]);
    await until(() => settledOn(d.id, 'nginx:1.27', 3), 30_000, 'three running replicas');
    await pass();
    const ready = (await req('GET', `/v1/deployments/${d.id}`)).body;
    expect((ready.status as { outputs: Json }).outputs.rollout).toMatchObject({
      phase: 'ready',
      replicas: 3,
      updated: 3,
      ready: 3,
      available: 3,
    });
    // A pass over a settled deployment writes nothing.
    await pass();
    expect((await req('GET', `/v1/deployments/${d.id}`)).body.resourceVersion).toBe(ready.resourceVersion);

    // A new image: one replica above 3 at most (maxSurge 1), never fewer than 3 running.
    expect((await req('PATCH', `/v1/deployments/${d.id}`, { spec: { image: 'nginx:1.28' } })).status).toBe(
      202,
    );
    const samples: RolloutSample[] = [await sample(d.id)];
    let phases = new Set<string>();
    await until(
      async () => {
        await pass();
        samples.push(await sample(d.id));
        const now = (await req('GET', `/v1/deployments/${d.id}`)).body;
        phases.add(((now.status as { outputs: Json }).outputs.rollout as { phase: string }).phase);
        return settledOn(d.id, 'nginx:1.28', 3);
      },
      60_000,
      'the new image on three replicas',
      100,
    );
    expect(rolloutViolations(samples, { replicas: 3, maxSurge: 1, maxUnavailable: 0 })).toEqual([]);
    expect(Math.max(...samples.map((s) => s.live))).toBe(4);
    expect(phases.has('updating')).toBe(true);
    const rev2 = (await replicas(d.id)).map((r) => parseReplica(prefix, r.name)!.revision);
    expect(new Set(rev2).size).toBe(1);
    expect(rev2[0]).not.toBe(rev1);

    // A Failed replica is deleted, then its slot filled again once it is gone.
    const [first] = await replicas(d.id);
    await h.db.query(
      `UPDATE stratus_resources SET status = jsonb_set(status, '{phase}', '"Failed"') WHERE id = $1`,
      [first!.id],
    );
    phases = new Set();
    await pass();
    expect((await req('GET', `/v1/instances/${first!.id}`)).body.deletionRequestedAt).not.toBeNull();
    await until(
      async () => {
        await pass();
        const kids = await replicas(d.id);
        return !kids.some((k) => k.id === first!.id) && (await settledOn(d.id, 'nginx:1.28', 3));
      },
      60_000,
      'the failed replica replaced',
      100,
    );
    expect((await replicas(d.id)).map((r) => r.name)).toContain(first!.name);

    // Scale in to 1: the low slot stays.
    expect((await req('POST', `/v1/deployments/${d.id}/scale`, { replicas: 1 })).status).toBe(202);
    await until(
      async () => {
        await pass();
        return settledOn(d.id, 'nginx:1.28', 1);
      },
      30_000,
      'one replica',
      100,
    );
    expect(parseReplica(prefix, (await replicas(d.id))[0]!.name)!.slot).toBe(0);

    // A deposed leader's pass is refused by the fence and creates nothing.
    const deposed = term;
    term = await new MemoryElector('node-b', new MemoryLeadership(), h.db).campaign(
      key,
      new AbortController().signal,
    );
    expect((await req('POST', `/v1/deployments/${d.id}/scale`, { replicas: 2 })).status).toBe(202);
    const refused = await controller.pass(ctxOf(deposed)).catch((e) => e);
    expect(isStaleEpochError(refused)).toBe(true);
    expect(await replicas(d.id)).toHaveLength(1);
    await pass();
    expect(await replicas(d.id)).toHaveLength(2);
  });

  it('keeps its load balancer in front of its running replicas through a rollout and after it lets go, and refuses one on another network', {
    timeout: 90_000,
  }, async () => {
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
    const other = (await req('POST', '/v1/networks', { name: 'n2', spec: { cidr: '10.5.0.0/24' } })).body
      .resource as Resource;
    const elsewhere = (await req('POST', '/v1/load-balancers', lbBody(other.id, 'elsewhere'))).body
      .resource as Resource;
    const refused = await req(
      'POST',
      '/v1/deployments',
      deployment({ replicas: 2, loadBalancer: { id: elsewhere.id, port: 8080 } }),
    );
    expect(refused.status).toBe(409);
    expect((refused.body.errors as Array<{ path: string }>).map((e) => e.path)).toEqual([
      '/spec/loadBalancer/id',
    ]);

    const lb = ((await req('POST', '/v1/load-balancers', lbBody(network, 'front'))).body.resource as Resource)
      .id;
    // A target set by hand (an instance no deployment owns) stays through everything the controller does.
    const single = (
      await req('POST', '/v1/instances', {
        name: 'single',
        spec: { image: 'debian-12', size: 'small', network },
      })
    ).body.resource as Resource;
    const hand = { instance: single.id, port: 9000, weight: 3 };
    expect((await req('PATCH', `/v1/load-balancers/${lb}`, { spec: { targets: [hand] } })).status).toBe(202);
    const created = await req('POST', '/v1/deployments', {
      name: 'api',
      spec: {
        image: 'nginx:1.27',
        replicas: 2,
        instanceType: 'small',
        network,
        loadBalancer: { id: lb, port: 8080 },
      },
    });
    expect(created.status).toBe(202);
    const d = created.body.resource as Resource;
    const lbKey = new LeaderKeyRegistry().register('lb-sync', 112);
    const lbTerm = await elector.campaign(lbKey, new AbortController().signal);
    const lbSync = lbSyncController({ leaderKey: lbKey, service: h.service, compute: h.ports.compute });
    const targets = async () =>
      (
        (await req('GET', `/v1/load-balancers/${lb}`)).body.spec as {
          targets: Array<{ instance: string; port: number }>;
        }
      ).targets;
    const serving = async () =>
      (await replicas(d.id))
        .filter((k) => !k.deletionRequestedAt && k.status.phase === 'Ready' && isRunning(k))
        .map((k) => ({ instance: k.id, port: 8080, weight: 1 }))
        .sort((a, b) => (a.instance < b.instance ? -1 : 1));
    const inStep = async (image: string, n: number) => {
      await pass();
      await lbSync.pass(ctxOf(lbTerm));
      if (!(await settledOn(d.id, image, n))) return false;
      return isDeepStrictEqual(await targets(), [hand, ...(await serving())]);
    };
    await until(() => inStep('nginx:1.27', 2), 60_000, 'the load balancer on two running replicas', 100);

    // A new image: once rolled out, the targets are the new replicas, and only they.
    expect((await req('PATCH', `/v1/deployments/${d.id}`, { spec: { image: 'nginx:1.28' } })).status).toBe(
      202,
    );
    await until(() => inStep('nginx:1.28', 2), 60_000, 'the load balancer on the new replicas', 100);
    const now = new Set((await replicas(d.id)).map((k) => k.id));
    expect((await targets()).slice(1).every((t) => now.has(t.instance))).toBe(true);

    // The deployment lets go of the load balancer: its replicas leave it, the hand-set target stays.
    expect((await req('PATCH', `/v1/deployments/${d.id}`, { spec: { loadBalancer: null } })).status).toBe(
      202,
    );
    await until(
      async () => {
        await lbSync.pass(ctxOf(lbTerm));
        return isDeepStrictEqual(await targets(), [hand]);
      },
      30_000,
      'only the hand-set target',
      100,
    );
  });
});

describe('the rollout plan and its audit', () => {
  const dep = (spec: Json, name = 'api'): Resource =>
    ({ id: 'dep_1', name, tenant: 't', generation: 1, spec, status: {} }) as unknown as Resource;
  const child = (name: string, over: Json = {}): Resource =>
    ({
      id: `inst_${name}`,
      name,
      deletionRequestedAt: null,
      status: { phase: 'Ready', outputs: { backendId: `i-${name}` } },
      ...over,
    }) as unknown as Resource;
  const spec = { image: 'app:1', replicas: 2, instanceType: 'small', network: 'net_1' };

  it('keeps long names to a DNS label and gives every revision its own names', () => {
    const long = 'a'.repeat(63);
    const prefix = replicaPrefix(long);
    expect(`${prefix}-abcdef-100`.length).toBeLessThanOrEqual(63);
    expect(replicaPrefix('a'.repeat(62) + 'b')).not.toBe(prefix);
    expect(revisionOf(spec as never)).not.toBe(revisionOf({ ...spec, image: 'app:2' } as never));
    expect(revisionOf(spec as never)).toBe(revisionOf({ ...spec, replicas: 9 } as never));
  });

  it('deletes a running old replica only when enough others run, and the stopped ones first', () => {
    const rev = revisionOf({ ...spec, image: 'app:2' } as never);
    const d = dep({ ...spec, image: 'app:2' });
    const old = [child('api-000000-0'), child('api-000000-1')];
    // Nothing new runs yet: create one (maxSurge 1), delete none.
    const start = planDeployment(d, old, new Set(['i-api-000000-0', 'i-api-000000-1']));
    expect(start.create).toEqual([`api-${rev}-0`]);
    expect(start.remove).toEqual([]);
    // The new one runs and one old one stopped: the stopped one goes (it costs nothing), the
    // running one stays (2 must run), and no room is left for a second new one.
    const next = planDeployment(
      d,
      [...old, child(`api-${rev}-0`)],
      new Set(['i-api-000000-0', `i-api-${rev}-0`]),
    );
    expect(next.remove.map((c) => c.name)).toEqual(['api-000000-1']);
    expect(next.create).toEqual([]);
    // Both new ones run: the last old one goes.
    const last = planDeployment(
      d,
      [old[0]!, child(`api-${rev}-0`), child(`api-${rev}-1`)],
      new Set(['i-api-000000-0', `i-api-${rev}-0`, `i-api-${rev}-1`]),
    );
    expect(last.remove.map((c) => c.name)).toEqual(['api-000000-0']);
    expect(next.report.phase).toBe('updating');
  });

  it('the audit fails on a sample above replicas + maxSurge and on one below replicas - maxUnavailable once reached', () => {
    const bounds = { replicas: 3, maxSurge: 1, maxUnavailable: 0 };
    expect(
      rolloutViolations(
        [
          { live: 3, running: 0 },
          { live: 3, running: 3 },
          { live: 4, running: 3 },
        ],
        bounds,
      ),
    ).toEqual([]);
    expect(rolloutViolations([{ live: 5, running: 3 }], bounds)).toEqual([
      'sample 0: 5 live replicas, above 3 + 1',
    ]);
    expect(
      rolloutViolations(
        [
          { live: 3, running: 3 },
          { live: 3, running: 2 },
        ],
        bounds,
      ),
    ).toEqual(['sample 1: 2 running, below 3 - 0']);
  });
});
