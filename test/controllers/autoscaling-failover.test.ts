// Autoscaling with real processes: a `stratus sim` and two `stratus start --role worker`
// replicas on a fresh database. A group converges to its size, scales out on CPU, the
// autoscaling leader is SIGKILLed mid-way, scales in after the cooldown, and a crashed instance
// is healed; all the while a sampler records each group's bounds, size, live children and the
// simulator's live instances per slot, which the audit judges: never outside min/max, never two
// instances in a slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceService, type ResourceService } from '../../src/control/service.js';
import { autoscalingViolations, type GroupSample } from '../../src/controllers/autoscaling/audit.js';
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

const TOKEN = 'autoscaling-failover-admin-token';
const KEY_ID = controlPlaneKeys.autoscaling.id;

interface SimInstance {
  id: string;
  state: string;
  labels?: Record<string, string>;
}

describe('autoscaling across a leader SIGKILL (real processes)', () => {
  let t: TestDatabase;
  let db: Database;
  let service: ResourceService;
  let sim: StratusProcess;
  let simUrl = '';
  const workers = new Map<string, StratusProcess>();
  let spawned = 0;

  const spawn = () => {
    const nodeId = `asg-${++spawned}`;
    const p = spawnStratus(['start', '--role', 'worker', '--node-id', nodeId], {
      DATABASE_URL: t.url,
      CLOUD_URL: simUrl,
      LOG_LEVEL: 'info',
      COMPUTE_RESYNC_MS: '200',
      HEALING_BACKOFF_MS: '200',
      ...FAST_FAILOVER_ENV,
    });
    workers.set(nodeId, p);
    void p.exited.then(() => workers.delete(nodeId));
    return p;
  };
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, simUrl), {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const truth = async () =>
    ((await (await fetch(new URL('/truth', simUrl))).json()) as { instances: SimInstance[] }).instances;
  const leader = () => leaderOf(db, KEY_ID);
  const childrenOf = async (group: string) =>
    (await service.list('t1', 'instances', { limit: 500, owner: group })).filter(
      (c) => !c.deletionRequestedAt,
    );

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 4 });
    await migrate(db, migrations);
    service = createResourceService({ db, kinds: builtinRegistry() });
    sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast', '--admin-token', TOKEN]);
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

  it('converges, scales out, survives a SIGKILL of its leader, scales in and heals, within bounds and one instance per slot', {
    timeout: 40_000,
  }, async () => {
    const body = (r: { body: string }) => (JSON.parse(r.body) as { resource: Resource }).resource;
    const network = body(
      await service.create('t1', 'networks', { name: 'n1', spec: { cidr: '10.3.0.0/24' } }),
    ).id;
    const group = body(
      await service.create('t1', 'autoscaling-groups', {
        name: 'web',
        spec: {
          template: { image: 'ubuntu-24.04', instanceType: 'small', network },
          minSize: 1,
          maxSize: 4,
          desired: 2,
          policy: { targetCpuPercent: 50, cooldownSeconds: 2 },
        },
      }),
    );
    for (let i = 0; i < 2; i++) spawn();

    // The sampler: every 100 ms, the group as the store and the simulator see it; it also gives
    // every instance of the group the CPU the test wants now.
    let cpu = 0.5;
    const loaded = new Map<string, number>();
    const samples: GroupSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [kids, state, instances] = await Promise.all([
          service.list('t1', 'instances', { limit: 500, owner: group.id }),
          db.query<{ desired: number }>('SELECT desired FROM stratus_autoscaling WHERE group_id = $1', [
            group.id,
          ]),
          truth(),
        ]);
        const nameOf = new Map(kids.map((k) => [k.id, k.name]));
        const slots: Record<string, string[]> = {};
        for (const i of instances) {
          const name = nameOf.get(i.labels?.['stratus.io/resource-id'] ?? '');
          if (!name || i.state === 'terminating' || i.state === 'terminated') continue;
          slots[name] = [...(slots[name] ?? []), i.id];
          if (loaded.get(i.id) !== cpu) {
            await admin('PUT', `/instances/${i.id}/load`, { cpu });
            loaded.set(i.id, cpu);
          }
        }
        samples.push({
          at: Date.now(),
          group: group.id,
          minSize: 1,
          maxSize: 4,
          desired: state.rows[0] === undefined ? undefined : Number(state.rows[0].desired),
          live: kids.filter((k) => !k.deletionRequestedAt).length,
          slots,
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const running = async (n: number) => {
      const kids = await childrenOf(group.id);
      const states = new Map((await truth()).map((i) => [i.id, i.state]));
      return (
        kids.length === n &&
        kids.every(
          (k) =>
            states.get((k.status.outputs as { backendId?: string } | undefined)?.backendId ?? '') ===
            'running',
        )
      );
    };

    try {
      await until(() => running(2), 20_000, 'two running instances');
      // Hot: out to 4; the leader is killed as soon as the decision is taken.
      cpu = 0.9;
      await until(
        async () =>
          (await db.query('SELECT 1 FROM stratus_scaling_decisions WHERE reason = $1', ['CpuAboveTarget']))
            .rowCount > 0,
        10_000,
        'a scale-out decision',
      );
      const before = (await leader())!;
      workers.get(before.holder)!.child.kill('SIGKILL');
      spawn();
      await until(
        async () => Number((await leader())?.epoch ?? 0) > Number(before.epoch),
        10_000,
        'a new autoscaling leader',
      );
      await until(() => running(4), 20_000, 'four running instances');

      // A crash: healed.
      const victim = (await childrenOf(group.id))[0]!;
      const victimBackend = (victim.status.outputs as { backendId: string }).backendId;
      expect((await admin('POST', `/instances/${victimBackend}/crash`)).status).toBe(200);
      await until(
        async () => (await truth()).find((i) => i.id === victimBackend)?.state === 'running',
        10_000,
        'the crashed instance running again',
      );

      // Cold: in to 1 after the cooldown.
      cpu = 0.05;
      await until(() => running(1), 20_000, 'one running instance');
    } catch (err) {
      console.error(
        `autoscaling failover: unfinished jobs at the failure:\n${(await unfinishedJobs(db)).join('\n')}`,
      );
      throw err;
    } finally {
      sampling = false;
      await sampler;
    }
    const audit = autoscalingViolations(samples);
    const decisions = await db.query<{ reason: string; epoch: number }>(
      'SELECT reason, epoch FROM stratus_scaling_decisions ORDER BY id',
    );
    console.info(
      `autoscaling failover: ${samples.length} samples, decisions ${decisions.rows.map((d) => `${d.reason}@${d.epoch}`).join(' ')}, ` +
        `outside ${audit.outside.length}, duplicates ${audit.duplicates.length}`,
    );
    expect(audit).toEqual({ outside: [], duplicates: [] });
    expect(decisions.rows.map((d) => d.reason)).toEqual(
      expect.arrayContaining(['Created', 'CpuAboveTarget', 'CpuBelowTarget']),
    );
    expect(new Set(decisions.rows.map((d) => Number(d.epoch))).size).toBeGreaterThan(1);
  });
});
