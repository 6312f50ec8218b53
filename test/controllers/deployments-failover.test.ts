// Deployments with real processes: a `stratus sim` and two `stratus start --role worker`
// replicas on a fresh database. A deployment of three replicas converges, then a new image rolls
// out; the deployments leader is SIGKILLed as soon as the rollout has begun, and its successor
// finishes it. All the while a sampler records the replicas as the store and the simulator see
// them, which the rollout audit judges (never above replicas + maxSurge live, never below
// replicas - maxUnavailable running), and no slot of a revision ever has two instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceService, type ResourceService } from '../../src/control/service.js';
import {
  parseReplica,
  type RolloutSample,
  replicaPrefix,
  rolloutViolations,
} from '../../src/controllers/deployments/plan.js';
import type { Resource } from '../../src/core/resources/resource.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { builtinRegistry } from '../../src/kinds/index.js';
import { migrations } from '../../src/migrations/index.js';
import { controlPlaneKeys } from '../../src/runtime/leader-keys.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_FAILOVER_ENV, leaderOf, unfinishedJobs } from '../helpers/failover.js';
import { until } from '../helpers/poll.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const KEY_ID = controlPlaneKeys.deployments.id;

interface SimInstance {
  id: string;
  state: string;
  labels?: Record<string, string>;
}

describe('a deployment rollout across a leader SIGKILL (real processes)', () => {
  let t: TestDatabase;
  let db: Database;
  let service: ResourceService;
  let sim: StratusProcess;
  let simUrl = '';
  const workers = new Map<string, StratusProcess>();
  let spawned = 0;

  const spawn = () => {
    const nodeId = `dep-${++spawned}`;
    const p = spawnStratus(['start', '--role', 'worker', '--node-id', nodeId], {
      DATABASE_URL: t.url,
      CLOUD_URL: simUrl,
      LOG_LEVEL: 'info',
      COMPUTE_RESYNC_MS: '200',
      ...FAST_FAILOVER_ENV,
    });
    workers.set(nodeId, p);
    void p.exited.then(() => workers.delete(nodeId));
    return p;
  };
  const truth = async () =>
    ((await (await fetch(new URL('/truth', simUrl))).json()) as { instances: SimInstance[] }).instances;
  const leader = () => leaderOf(db, KEY_ID);

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 4 });
    await migrate(db, migrations);
    service = createResourceService({ db, kinds: builtinRegistry() });
    sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast']);
    simUrl = (await sim.waitForLog((r) => typeof r.url === 'string')).url as string;
  }, 30_000);
  afterAll(async () => {
    for (const p of workers.values()) p.child.kill('SIGKILL');
    await Promise.all([...workers.values()].map((p) => p.exited));
    sim?.child.kill('SIGTERM');
    await sim?.exited;
    await db?.close();
    await t?.drop();
  });

  it('finishes a rollout its killed leader began, within its bounds and one instance per slot', {
    timeout: 60_000,
  }, async () => {
    const body = (r: { body: string }) => (JSON.parse(r.body) as { resource: Resource }).resource;
    const network = body(
      await service.create('t1', 'networks', { name: 'n1', spec: { cidr: '10.5.0.0/24' } }),
    ).id;
    const dep = body(
      await service.create('t1', 'deployments', {
        name: 'web',
        spec: { image: 'nginx:1.27', replicas: 3, instanceType: 'small', network },
      }),
    );
    const prefix = replicaPrefix(dep.name);
    for (let i = 0; i < 2; i++) spawn();

    const samples: RolloutSample[] = [];
    const doubled: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [kids, instances] = await Promise.all([
          service.list('t1', 'instances', { limit: 500, owner: dep.id }),
          truth(),
        ]);
        const byResource = new Map<string, SimInstance[]>();
        for (const i of instances) {
          const id = i.labels?.['stratus.io/resource-id'] ?? '';
          if (i.state === 'terminating' || i.state === 'terminated') continue;
          byResource.set(id, [...(byResource.get(id) ?? []), i]);
        }
        const live = kids.filter((k) => !k.deletionRequestedAt && k.status.phase !== 'Failed');
        for (const k of live) if ((byResource.get(k.id)?.length ?? 0) > 1) doubled.push(k.name);
        const running = live.filter((k) => byResource.get(k.id)?.some((i) => i.state === 'running')).length;
        samples.push({ live: live.length, running });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const settledOn = async (image: string) => {
      const kids = (await service.list('t1', 'instances', { limit: 500, owner: dep.id })).filter(
        (k) => !k.deletionRequestedAt,
      );
      const states = new Map((await truth()).map((i) => [i.id, i.state]));
      return (
        kids.length === 3 &&
        kids.every(
          (k) =>
            k.spec.image === image &&
            states.get((k.status.outputs as { backendId?: string } | undefined)?.backendId ?? '') ===
              'running',
        )
      );
    };

    try {
      await until(() => settledOn('nginx:1.27'), 30_000, 'three running replicas');
      const before = (await leader())!;
      await service.patch('t1', 'deployments', dep.id, { spec: { image: 'nginx:1.28' } });
      // Killed as soon as its first replica of the new image exists.
      await until(
        async () =>
          (await service.list('t1', 'instances', { limit: 500, owner: dep.id })).some(
            (k) => k.spec.image === 'nginx:1.28',
          ),
        15_000,
        'the rollout begun',
        20,
      );
      const holder = (await leader())!.holder;
      workers.get(holder)!.child.kill('SIGKILL');
      spawn();
      await until(
        async () => Number((await leader())?.epoch ?? 0) > Number(before.epoch),
        15_000,
        'a new deployments leader',
      );
      await until(() => settledOn('nginx:1.28'), 40_000, 'the new image on three replicas');
    } catch (err) {
      console.error(
        `deployment failover: unfinished jobs at the failure:\n${(await unfinishedJobs(db)).join('\n')}`,
      );
      throw err;
    } finally {
      sampling = false;
      await sampler;
    }
    const kids = (await service.list('t1', 'instances', { limit: 500, owner: dep.id })).filter(
      (k) => !k.deletionRequestedAt,
    );
    const slots = kids.map((k) => parseReplica(prefix, k.name)?.slot).sort();
    console.info(
      `deployment failover: ${samples.length} samples, max live ${Math.max(...samples.map((s) => s.live))}, ` +
        `min running after reaching 3 ${Math.min(...samples.slice(samples.findIndex((s) => s.running >= 3)).map((s) => s.running))}`,
    );
    expect(rolloutViolations(samples, { replicas: 3, maxSurge: 1, maxUnavailable: 0 })).toEqual([]);
    expect(doubled).toEqual([]);
    expect(slots).toEqual([0, 1, 2]);
  });
});
