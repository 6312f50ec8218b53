// G3 and G4 across real processes: three campaigners, five keys; SIGKILL of a leader.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { checkFencing } from './invariants.js';
import { type LeaderTestDatabase, leaderTestDatabase, testKeys } from './setup.js';

const keys = testKeys(5);
const names = keys.map((k) => k.name);

// Starting three processes takes up to 11 s at a load average of 16 on two cores.
describe('leader election across three processes', { timeout: 60_000 }, () => {
  let env: LeaderTestDatabase;
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    env = await leaderTestDatabase();
  });
  afterEach(async () => {
    await cluster?.end();
    cluster = undefined;
  });
  afterAll(() => env.dispose());

  /** Per key, the node whose holder session holds the leadership lock, from pg_locks. */
  const lockHolders = async () => {
    const res = await env.db.query<{ key_id: number; holders: string[] }>(
      `SELECT l.objid::int8 AS key_id, array_agg(a.application_name) AS holders
       FROM pg_locks l JOIN pg_stat_activity a USING (pid)
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int8::oid AND l.objsubid = 2
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       GROUP BY 1 ORDER BY 1`,
      [0x5354_0002],
    );
    return new Map(res.rows.map((r) => [r.key_id, r.holders]));
  };

  it('gives each key exactly one leader, and a new one under 3 s after the leader is SIGKILLed', async () => {
    cluster = new Cluster({ lockUrl: env.t.url, poolUrl: env.t.url, keys, writeEveryMs: 20, holdInTxMs: 0 });
    for (const node of ['a', 'b', 'c']) cluster.spawn(node);
    const leaders = await cluster.leadersOf(names, 20_000);
    await Cluster.waitQueued(env.db, 2 * keys.length, 20_000);

    // The database agrees with the processes: one lock per key, on the believed leader's session.
    const holders = await lockHolders();
    for (const key of keys) {
      expect(holders.get(key.id)).toEqual([`stratus-leader:${leaders.get(key.name)!.nodeId}`]);
      expect(cluster.believedLeaders(key.name)).toHaveLength(1);
    }

    // Kill the process that leads the most keys.
    const counts = new Map<string, number>();
    for (const l of leaders.values()) counts.set(l.nodeId, (counts.get(l.nodeId) ?? 0) + 1);
    const victimId = [...counts].sort((x, y) => y[1] - x[1])[0]![0];
    const victim = cluster.members.find((m) => m.nodeId === victimId)!;
    const itsKeys = names.filter((k) => leaders.get(k) === victim);
    const epochs = new Map(itsKeys.map((k) => [k, victim.believedEpoch(k)!]));
    const killedAt = victim.signal('SIGKILL');
    const takeovers = await Promise.all(
      itsKeys.map((k) =>
        cluster!.next(
          (e) => e.ev === 'started' && e.key === k && e.epoch! > epochs.get(k)!,
          10_000,
          `a new leader of ${k}`,
        ),
      ),
    );
    for (const started of takeovers) {
      expect(started.node).not.toBe(victimId);
      expect(started.t - killedAt).toBeLessThan(3_000);
    }

    // Still exactly one leader per key, and fencing held throughout.
    const after = await cluster.leadersOf(names, 10_000);
    const holdersAfter = await lockHolders();
    for (const key of keys) {
      expect(holdersAfter.get(key.id)).toEqual([`stratus-leader:${after.get(key.name)!.nodeId}`]);
    }
    const report = await checkFencing(env.db);
    expect(report.writes).toBeGreaterThan(0);
    expect(report).toMatchObject({ overlaps: 0, regressions: 0, unknownEpochs: 0, afterLockLost: 0 });
  });
});
