// Database failover under a paused controller leader, with real processes: a `stratus sim` and
// two `stratus start --role worker` replicas on a fresh database. The primary is taken down; the
// failover leader fences it, and its promote is held in the simulator by a fault rule (a hang on
// the first promote), which makes the window between fence and promote reliable; the leader is
// SIGSTOPped inside it. The other replica takes the key over, fences with its own epoch and
// promotes. The held promote is then let go while its leader is still paused: the simulator
// refuses its stale epoch. SIGCONT. The simulator's audit shows never two writable primaries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBackends } from '../../src/backends/http/index.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { migrations } from '../../src/migrations/index.js';
import { controlPlaneKeys } from '../../src/runtime/leader-keys.js';
import type { AuditEntry, TwoWritableViolation, WritableChange } from '../../src/sim/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_FAILOVER_ENV, leaderOf } from '../helpers/failover.js';
import { until } from '../helpers/poll.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const TOKEN = 'failover-test-admin-token';
const KEY_ID = controlPlaneKeys.databaseFailover.id;

describe('database failover under a paused controller leader (real processes)', () => {
  let t: TestDatabase;
  let db: Database;
  let sim: StratusProcess;
  let simUrl: string;
  const workers = new Map<string, StratusProcess>();

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, simUrl), {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
  };
  const audit = async (query: string) =>
    (await (await fetch(new URL(`/audit?backend=database&${query}`, simUrl))).json()) as {
      entries: AuditEntry[];
    };
  const leader = () => leaderOf(db, KEY_ID);

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 3 });
    await migrate(db, migrations);
    sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast', '--admin-token', TOKEN]);
    simUrl = (await sim.waitForLog((r) => typeof r.url === 'string', 60_000)).url as string;
  });
  afterAll(async () => {
    for (const p of [...workers.values(), sim]) {
      p?.child.kill('SIGCONT');
      p?.child.kill('SIGKILL');
    }
    await Promise.all([...workers.values(), sim].filter(Boolean).map((p) => p.exited));
    await db?.close();
    await t?.drop();
  });

  it('fences first, refuses the paused leader its promote, and never has two writable primaries', {
    timeout: 60_000,
  }, async () => {
    // The cluster in the simulator and its resource, as a reconcile would have left them.
    const ports = createHttpBackends({ url: simUrl, caller: 'test' });
    const cluster = await ports.database.createDatabase(
      { name: 'db_orders', engine: 'postgres', version: '16', replicas: 2, instanceType: 'small' },
      { clientToken: 'create-orders' },
    );
    const [old, laggard, best] = cluster.nodes.map((n) => n.name) as [string, string, string];
    await admin('PUT', `/databases/${cluster.id}/nodes/${laggard}/lag`, { lagMs: 800 });
    await db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       VALUES ('db_orders', 't1', 'databases', 'orders', $1::jsonb, $2::jsonb, 1, nextval('stratus_resource_version_seq'))`,
      [
        JSON.stringify({ engine: 'postgres', version: '16', replicas: 2, instanceType: 'small' }),
        JSON.stringify({
          phase: 'Ready',
          conditions: [],
          observedGeneration: 1,
          outputs: { backendId: cluster.id },
        }),
      ],
    );
    for (let i = 1; i <= 2; i++) {
      const nodeId = `dbf-${i}`;
      workers.set(
        nodeId,
        spawnStratus(['start', '--role', 'worker', '--node-id', nodeId], {
          DATABASE_URL: t.url,
          CLOUD_URL: simUrl,
          DATABASE_FAILOVER_THRESHOLD_MS: '300',
          DATABASE_FAILOVER_RESYNC_MS: '50',
          REPLICA_MONITOR_RESYNC_MS: '100',
          ...FAST_FAILOVER_ENV,
        }),
      );
    }
    await Promise.all(
      [...workers.values()].map((w) =>
        w.waitForLog((l) => String(l.msg).startsWith('stratus ready'), 60_000),
      ),
    );
    await until(async () => (await leader()) !== undefined, 15_000, 'a first failover leader');
    const first = (await leader())!;
    const paused = workers.get(first.holder)!;
    expect(paused, `leader ${first.holder} is one of ours`).toBeDefined();

    // Hold the first promote in the simulator, then take the primary down.
    const rule = (await admin('POST', '/faults', {
      backend: 'database',
      operation: 'promote',
      effect: { kind: 'hang' },
      times: 1,
    })) as { id: string };
    await admin('PUT', `/databases/${cluster.id}/nodes/${old}/health`, { healthy: false });

    // The leader fenced the old primary with its epoch, and its promote is now held.
    await until(
      async () =>
        (await audit(`op=fence&outcome=created&caller=${first.holder}`)).entries.some(
          (e) => e.fencingToken === first.epoch,
        ),
      15_000,
      'the first leader to fence the old primary',
    );
    await until(
      async () => {
        const { rules } = (await admin('GET', '/faults')) as { rules: { id: string; hits: number }[] };
        return rules.find((r) => r.id === rule.id)?.hits === 1;
      },
      10_000,
      'its promote to be held',
      10,
    );
    paused.child.kill('SIGSTOP');

    // Another replica takes the key over and fails over with its own epoch.
    await until(
      async () => {
        const now = await leader();
        return now !== undefined && now.epoch > first.epoch && now.holder !== first.holder;
      },
      15_000,
      'a successor leader',
    );
    const second = (await leader())!;
    await until(
      async () => (await audit(`op=promote&outcome=created&caller=${second.holder}`)).entries.length > 0,
      15_000,
      'the successor to promote',
    );

    // Let the held promote go while its leader is still paused: refused as stale. Then resume it.
    await admin('DELETE', `/faults/${rule.id}`);
    await until(
      async () => (await audit(`op=promote&outcome=refused-stale&caller=${first.holder}`)).entries.length > 0,
      10_000,
      'the paused leader’s promote to be refused',
    );
    paused.child.kill('SIGCONT');
    await paused.waitForLog(
      (l) =>
        l.msg === 'controller pass failed' || String(l.msg).startsWith('stopped leading database-failover'),
      15_000,
    );

    const entries = (await audit('')).entries.filter((e) => e.op === 'fence' || e.op === 'promote');
    const created = entries.filter((e) => e.outcome === 'created');
    const refused = entries.filter((e) => e.outcome === 'refused-stale');
    const { history, twoWritable } = (await (await fetch(new URL('/audit/databases', simUrl))).json()) as {
      history: WritableChange[];
      twoWritable: TwoWritableViolation[];
    };
    const final = await ports.database.getDatabase(cluster.id);
    console.info(
      `database failover: epochs ${first.epoch} (${first.holder}, paused) → ${second.epoch} (${second.holder}); ` +
        `${created.length} fence/promote accepted, ${refused.length} refused stale, ${history.length} writable changes, ` +
        `${twoWritable.length} instants with two writable primaries`,
    );
    expect(twoWritable).toEqual([]);
    // Fenced first: the old primary stopped taking writes before any other node started.
    const fenceAt = history.find((h) => h.node === old && !h.writable)!.seq;
    const promoteAt = history.find((h) => h.node !== old && h.writable)!.seq;
    expect(fenceAt).toBeLessThan(promoteAt);
    // The successor fenced again with its epoch before it promoted.
    expect(created.filter((e) => e.caller === second.holder).map((e) => [e.op, e.fencingToken])).toEqual([
      ['fence', second.epoch],
      ['promote', second.epoch],
    ]);
    // One promote accepted, the successor's, of the healthiest least-lagging replica.
    const promotes = created.filter((e) => e.op === 'promote');
    expect(promotes.map((e) => [e.caller, e.fencingToken])).toEqual([[second.holder, second.epoch]]);
    expect(final.nodes.map((n) => [n.name, n.role])).toEqual([
      [old, 'fenced'],
      [laggard, 'replica'],
      [best, 'primary'],
    ]);
    // The paused leader's stale call refused, and nothing of its epoch accepted after the successor's.
    expect(refused.some((e) => e.caller === first.holder && e.fencingToken === first.epoch)).toBe(true);
    const successorFrom = Math.min(
      ...created.filter((e) => e.fencingToken === second.epoch).map((e) => e.seq),
    );
    expect(created.filter((e) => e.fencingToken === first.epoch && e.seq > successorFrom)).toEqual([]);

    // The replica monitor shows the new primary on the resource.
    await until(
      async () => {
        const res = await db.query<{
          status: { outputs?: { primary?: string }; conditions: { type: string; status: string }[] };
        }>("SELECT status FROM stratus_resources WHERE id = 'db_orders'");
        const s = res.rows[0]!.status;
        return (
          s.outputs?.primary === best &&
          s.conditions.some((c) => c.type === 'PrimaryAvailable' && c.status === 'True')
        );
      },
      15_000,
      'the monitor to report the new primary',
    );
  });
});
