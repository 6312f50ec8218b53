// The replica monitor and the database-failover controller against a real database and the
// in-process simulator, with an injected clock and in-process leadership: no failover before
// the threshold, fence before promote with one epoch, the least-lagging healthy replica chosen,
// a deposed term's calls refused by the backend and its writes by the fence, conditions from
// lag and health written only when they change. Plus the pure choice, on known-bad clusters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseReplica, planFailover } from '../../src/controllers/databases/choose.js';
import { databaseFailoverController } from '../../src/controllers/databases/failover.js';
import { replicaMonitorController } from '../../src/controllers/databases/monitor.js';
import type { PassContext } from '../../src/controllers/framework/define.js';
import { isStaleFencingTokenError } from '../../src/core/errors/backend-errors.js';
import type { DatabaseCluster } from '../../src/core/ports/database.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { migrations } from '../../src/migrations/index.js';
import { createSimBackends, type SimBackends, twoWritable } from '../../src/sim/index.js';
import { openTestDatabase } from '../helpers/db.js';

const keys = new LeaderKeyRegistry();
const failoverKey = keys.register('database-failover', 117);
const monitorKey = keys.register('replica-monitor', 116);
const node = (
  name: string,
  role: 'primary' | 'replica' | 'fenced',
  healthy: boolean,
  lagMs = 0,
  healthSince = 0,
) => ({
  name,
  role,
  healthy,
  lagMs,
  healthSince,
});
const clusterOf = (nodes: DatabaseCluster['nodes']): DatabaseCluster => ({
  id: 'db-1',
  name: 'x',
  engine: 'postgres',
  version: '16',
  replicas: nodes.length - 1,
  instanceType: 'small',
  nodes,
  snapshots: [],
  credentialsVersion: 1,
  createdAt: 0,
});

describe('the failover plan', () => {
  it('waits for the threshold, then fences the down primary and promotes the least-lagging healthy replica', () => {
    const c = clusterOf([
      node('a', 'primary', false, 0, 1_000),
      node('b', 'replica', true, 50),
      node('c', 'replica', true, 5),
    ]);
    expect(planFailover(c, 1_000 + 9_999, 10_000)).toEqual({
      action: 'wait',
      primary: 'a',
      downForMs: 9_999,
    });
    expect(planFailover(c, 1_000 + 10_000, 10_000)).toEqual({
      action: 'failover',
      fence: ['a'],
      promote: 'c',
    });
  });

  it('never chooses a down, fenced or primary node; a healthy primary means nothing to do', () => {
    const c = clusterOf([
      node('a', 'primary', false),
      node('b', 'replica', false),
      node('c', 'fenced', true),
      node('d', 'replica', true, 900),
    ]);
    expect(chooseReplica(c)?.name).toBe('d');
    expect(
      planFailover(clusterOf([node('a', 'primary', true), node('b', 'replica', true)]), 1e12, 0),
    ).toEqual({
      action: 'none',
      reason: 'healthy',
    });
    expect(
      planFailover(clusterOf([node('a', 'primary', false), node('b', 'replica', false)]), 1e12, 0),
    ).toEqual({
      action: 'stuck',
      reason: 'no healthy replica to promote',
    });
  });

  it('a cluster a previous term fenced and left without a primary is fenced again with ours, then promoted', () => {
    const c = clusterOf([
      node('a', 'fenced', false),
      node('b', 'replica', true, 1),
      node('c', 'replica', true, 1),
    ]);
    expect(planFailover(c, 0, 10_000)).toEqual({ action: 'failover', fence: ['a'], promote: 'b' });
  });
});

describe('database controllers on pg', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let elector: MemoryElector;
  let space: MemoryLeadership;
  let sim: SimBackends;
  let now = 1_800_000_000_000;
  const steps: string[] = [];
  const failover = () =>
    databaseFailoverController({
      leaderKey: failoverKey,
      database: sim.database,
      thresholdMs: 10_000,
      onStep: (s) => steps.push(`${s.op} ${s.node} @${s.epoch}`),
    });
  const monitor = () =>
    replicaMonitorController({ leaderKey: monitorKey, database: sim.database, lagThresholdMs: 1_000 });
  const ctxOf = (term: LeaderTerm): PassContext => ({
    signal: term.signal,
    term,
    epoch: term.epoch,
    now: () => now,
    db,
    fenced: (fn) => fencedTransaction(db, term, fn),
  });
  const statusOf = async (id: string) =>
    (
      await db.query<{
        status: {
          outputs: Record<string, unknown>;
          conditions: { type: string; status: string; reason: string }[];
        };
      }>('SELECT status FROM stratus_resources WHERE id = $1', [id])
    ).rows[0]!.status;
  const versionOf = async (id: string) =>
    (await db.query<{ v: string }>('SELECT resource_version AS v FROM stratus_resources WHERE id = $1', [id]))
      .rows[0]!.v;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('pg'));
    await migrate(db, migrations);
    space = new MemoryLeadership();
    elector = new MemoryElector('node-a', space, db);
    sim = createSimBackends({ wallClock: () => now });
  });
  afterAll(async () => {
    await elector.close();
    await dispose();
  });

  const addDatabase = async (id: string) => {
    const c = await sim.database.createDatabase(
      { name: id, engine: 'postgres', version: '16', replicas: 2, instanceType: 'small' },
      { clientToken: `create-${id}` },
    );
    await db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       VALUES ($1, 't1', 'databases', $1, '{}'::jsonb, $2::jsonb, 1, nextval('stratus_resource_version_seq'))`,
      [
        id,
        JSON.stringify({
          phase: 'Ready',
          conditions: [],
          observedGeneration: 1,
          outputs: { backendId: c.id },
        }),
      ],
    );
    return c;
  };

  it('fails over past the threshold only, fence first, and refuses a deposed term at the backend and the fence', async () => {
    const c = await addDatabase('db_a');
    const [a, b, cc] = c.nodes.map((n) => n.name) as [string, string, string];
    sim.database.setLag(c.id, b, 2_000);
    sim.database.setLag(c.id, cc, 10);
    const t1 = await elector.campaign(failoverKey, new AbortController().signal);
    sim.database.setHealth(c.id, a, false);
    now += 9_000;
    expect(await failover().pass(ctxOf(t1))).toEqual({ more: false, lagMs: 9_000 });
    expect(steps).toEqual([]);
    now += 1_000;
    await failover().pass(ctxOf(t1));
    expect(steps).toEqual([`fence ${a} @${t1.epoch}`, `promote ${cc} @${t1.epoch}`]);
    expect(sim.database.peek(c.id)!.nodes.map((n) => n.role)).toEqual(['fenced', 'replica', 'primary']);
    expect((await statusOf('db_a')).conditions).toEqual([
      expect.objectContaining({ type: 'FailedOver', status: 'True', reason: 'PrimaryReplaced' }),
    ]);
    // A second pass over the settled cluster does nothing.
    steps.length = 0;
    const version = await versionOf('db_a');
    await failover().pass(ctxOf(t1));
    expect(steps).toEqual([]);
    expect(await versionOf('db_a')).toBe(version);

    // A new term fails over the new primary; the deposed term, replaying its plan, is refused.
    space.revoke(failoverKey.id);
    const t2 = await elector.campaign(failoverKey, new AbortController().signal);
    sim.database.setHealth(c.id, cc, false);
    now += 10_000;
    await failover().pass(ctxOf(t2));
    expect(sim.database.peek(c.id)!.nodes.map((n) => n.role)).toEqual(['fenced', 'primary', 'fenced']);
    const stale = await sim.database
      .promote(c.id, cc, { clientToken: 'zombie', fencingToken: t1.epoch })
      .catch((e: unknown) => e);
    expect(isStaleFencingTokenError(stale)).toBe(true);
    const write = await ctxOf(t1)
      .fenced(async () => 'written')
      .catch((e: unknown) => e);
    expect(isStaleEpochError(write)).toBe(true);
    expect(twoWritable(sim.database.writableHistory())).toEqual([]);
  });

  it('without the fence first the audit sees two writable primaries (the check can fail)', async () => {
    const c = await addDatabase('db_bad');
    sim.database.setHealth(c.id, c.nodes[0]!.name, false);
    await sim.database.promote(c.id, c.nodes[1]!.name, { clientToken: 'unfenced', fencingToken: 99 });
    expect(twoWritable(sim.database.writableHistory()).map((v) => v.database)).toEqual([c.id]);
    await db.query("DELETE FROM stratus_resources WHERE id = 'db_bad'");
  });

  it('the monitor turns lag and health into conditions, writing only on a change', async () => {
    const c = await addDatabase('db_m');
    const [, b, cc] = c.nodes.map((n) => n.name) as [string, string, string];
    const t = await elector.campaign(monitorKey, new AbortController().signal);
    await monitor().pass(ctxOf(t));
    const conditions = async () =>
      Object.fromEntries((await statusOf('db_m')).conditions.map((x) => [x.type, `${x.status}/${x.reason}`]));
    expect(await conditions()).toEqual({
      PrimaryAvailable: 'True/Healthy',
      ReplicasHealthy: 'True/Healthy',
      ReplicationLagging: 'False/InSync',
    });
    const version = await versionOf('db_m');
    await monitor().pass(ctxOf(t));
    expect(await versionOf('db_m')).toBe(version);
    sim.database.setLag(c.id, b, 5_000);
    sim.database.setHealth(c.id, cc, false);
    await monitor().pass(ctxOf(t));
    expect(await conditions()).toEqual({
      PrimaryAvailable: 'True/Healthy',
      ReplicasHealthy: 'False/ReplicaDown',
      ReplicationLagging: 'True/Lagging',
    });
    expect((await statusOf('db_m')).outputs).toMatchObject({ lagMs: 5_000, primary: c.nodes[0]!.name });
  });
});
