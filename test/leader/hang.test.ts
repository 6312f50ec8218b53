// G3 and G4 when the leader does not die but stops, loses its session, or loses the network.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { type Campaigner, type CampaignerEvent, Cluster, wallNow } from './cluster.js';
import { checkFencing, committedWrites } from './invariants.js';
import { type LeaderTestDatabase, leaderTestDatabase, testKeys } from './setup.js';

const keys = testKeys(2);
const names = keys.map((k) => k.name);
/** The server ends an idle lock session after 3 s; the handover that follows takes ms. */
const HANG_BOUND_MS = 5_000;
const RENEW_DEADLINE_MS = 2_000;

// Each test outlives a 3 s server timeout and starts three processes: up to 20 s each at a
// load average of 16 on two cores. The bounds asserted inside are what matter.
describe('a leader that hangs, is cut off, or loses its session', { timeout: 60_000 }, () => {
  let env: LeaderTestDatabase;
  let cluster: Cluster | undefined;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    env = await leaderTestDatabase();
  });
  afterEach(async () => {
    proxy?.resume();
    await cluster?.end();
    await proxy?.close();
    cluster = undefined;
    proxy = undefined;
  });
  afterAll(() => env.dispose());

  const newCluster = () =>
    new Cluster({ lockUrl: env.t.url, poolUrl: env.t.url, keys, writeEveryMs: 20, holdInTxMs: 30 });

  /** Waits for a leader of `key` newer than `epoch` on another node. */
  const takeover = (c: Cluster, key: string, epoch: number, not: string) =>
    c.next(
      (e) => e.ev === 'started' && e.key === key && e.epoch! > epoch && e.node !== not,
      HANG_BOUND_MS * 3,
      `a new leader of ${key}`,
    );

  /**
   * The deposed node's fenced write with its old term is refused with StaleEpochError. A
   * pooled connection the server ended while the node was stopped or cut off fails first
   * with a connection error (nothing written): such attempts are retried, a few times.
   */
  let req = 0;
  const expectStaleWriteRefused = async (node: Campaigner, key: string, epoch: number) => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const id = ++req;
      const result = node.next((e) => e.ev === 'write' && e.req === id, 10_000, 'the stale write');
      node.send({ cmd: 'write-stale', key, req: id });
      const outcome = await result;
      expect(outcome.epoch).toBe(epoch);
      expect(outcome.ok).toBe(false);
      if (outcome.code === 'STALE_EPOCH') return;
    }
    throw new Error('no stale write was refused by the fence');
  };

  /** Every write a node reported accepted is committed; none it reported refused is (node ids are unique per test). */
  const expectConsistentReports = async (c: Cluster) => {
    const committed = await committedWrites(env.db);
    const writes = c.events.filter((e): e is CampaignerEvent & { n: number } => e.ev === 'write');
    for (const w of writes) {
      const id = `${w.node}#${w.n}`;
      if (w.ok) expect(committed.has(id), `accepted write ${id} is missing`).toBe(true);
      if (w.code === 'STALE_EPOCH')
        expect(committed.has(id), `refused write ${id} was committed`).toBe(false);
    }
    const report = await checkFencing(env.db);
    expect(report).toMatchObject({ overlaps: 0, regressions: 0, unknownEpochs: 0, afterLockLost: 0 });
  };

  it('SIGSTOP: a peer takes over within the hang bound; on SIGCONT the old leader steps down and is fenced', async () => {
    cluster = newCluster();
    for (const node of ['stop-a', 'stop-b', 'stop-c']) cluster.spawn(node);
    const leaders = await cluster.leadersOf(names, 20_000);
    await Cluster.waitQueued(env.db, 2 * keys.length, 20_000);
    const victim = leaders.get(names[0]!)!;
    const itsKeys = names.filter((k) => leaders.get(k) === victim);
    const epochs = new Map(itsKeys.map((k) => [k, victim.believedEpoch(k)!]));

    const stoppedAt = victim.signal('SIGSTOP');
    const starts = await Promise.all(
      itsKeys.map((k) => takeover(cluster!, k, epochs.get(k)!, victim.nodeId)),
    );
    for (const s of starts) expect(s.t - stoppedAt).toBeLessThan(HANG_BOUND_MS);

    const resumedAt = victim.signal('SIGCONT');
    for (const k of itsKeys) {
      const lost = await victim.waitFor(
        (e) => e.ev === 'lost' && e.key === k && e.epoch === epochs.get(k),
        10_000,
        `the old leader to step down from ${k}`,
      );
      expect(lost.t - resumedAt).toBeLessThan(RENEW_DEADLINE_MS);
      await victim.waitFor(
        (e) => e.ev === 'ended' && e.key === k && e.epoch === epochs.get(k),
        10_000,
        `the old singleton of ${k} to return`,
      );
    }
    // Nothing the old leader began to write under its old terms after it woke up was accepted.
    const afterWake = victim.events.filter(
      (e) => e.ev === 'write' && (e.begunAt as number) > resumedAt && e.epoch === epochs.get(e.key!),
    );
    expect(afterWake.filter((e) => e.ok)).toEqual([]);
    await expectStaleWriteRefused(victim, itsKeys[0]!, epochs.get(itsKeys[0]!)!);
    await expectConsistentReports(cluster);
  });

  it('SIGSTOP during a long statement inside a fenced transaction: a peer still takes over within the hang bound', async () => {
    cluster = newCluster();
    const key = names[0]!;
    // 3.5 s: longer than the fenced statement bound, shorter than the old 5 s one.
    const victim = cluster.spawn('long-a', { keys: [keys[0]!], statementInTx: 'SELECT pg_sleep(3.5)' });
    await cluster.leadersOf([key], 20_000);
    for (const node of ['long-b', 'long-c']) cluster.spawn(node, { keys: [keys[0]!] });
    await Cluster.waitQueued(env.db, 2, 20_000);
    const epoch = victim.believedEpoch(key)!;
    // Stop it the moment a long statement has begun: the worst case for the old bounds
    // (statement time + idle-in-transaction timeout = 5.5 s).
    const deadline = Date.now() + 20_000;
    while (
      (
        await env.db.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'campaigner-pool:long-a'
           AND state = 'active' AND query LIKE '%pg_sleep%'
           AND clock_timestamp() - query_start < interval '100 milliseconds'`,
        )
      ).rowCount === 0
    ) {
      if (Date.now() > deadline) throw new Error('the long statement never started');
      await new Promise((r) => setTimeout(r, 10));
    }
    const stoppedAt = victim.signal('SIGSTOP');
    const started = await takeover(cluster, key, epoch, victim.nodeId);
    expect(started.t - stoppedAt).toBeLessThan(HANG_BOUND_MS);
    victim.signal('SIGCONT');
    await expectStaleWriteRefused(victim, key, epoch);
    await expectConsistentReports(cluster);
  });

  it('pg_terminate_backend: a peer takes over at once, the old leader aborts within its renew deadline', async () => {
    cluster = newCluster();
    for (const node of ['term-a', 'term-b', 'term-c']) cluster.spawn(node);
    const leaders = await cluster.leadersOf(names, 20_000);
    await Cluster.waitQueued(env.db, 2 * keys.length, 20_000);
    const key = names[0]!;
    const victim = leaders.get(key)!;
    const epoch = victim.believedEpoch(key)!;
    const row = await env.db.query<{ backend_pid: number; holder: string }>(
      'SELECT backend_pid, holder FROM stratus_leadership WHERE key = $1',
      [key],
    );
    expect(row.rows[0]!.holder).toBe(victim.nodeId);

    const terminatedAt = wallNow();
    await env.db.query('SELECT pg_terminate_backend($1)', [row.rows[0]!.backend_pid]);
    const [started, ended] = await Promise.all([
      takeover(cluster, key, epoch, victim.nodeId),
      victim.waitFor(
        (e) => e.ev === 'lost' && e.key === key && e.epoch === epoch,
        10_000,
        'the old term to end',
      ),
    ]);
    // "At once": the lock frees when the session ends; the margin is for a loaded machine.
    expect(started.t - terminatedAt).toBeLessThan(1_500);
    expect(ended.t - terminatedAt).toBeLessThan(RENEW_DEADLINE_MS);
    expect(ended.reason).toBe('session-lost');
    await expectStaleWriteRefused(victim, key, epoch);
    await expectConsistentReports(cluster);
  });

  it('blackholed network: the leader demotes itself, then a peer takes over within the hang bound', async () => {
    proxy = await startTcpProxy(env.t.url);
    cluster = newCluster();
    const viaProxy = proxy.urlFor(env.t.url);
    const cut = cluster.spawn('cut-a', { lockUrl: viaProxy, poolUrl: viaProxy });
    const leaders = await cluster.leadersOf(names, 20_000);
    for (const k of names) expect(leaders.get(k)).toBe(cut);
    const epochs = new Map(names.map((k) => [k, cut.believedEpoch(k)!]));
    for (const node of ['cut-b', 'cut-c']) cluster.spawn(node);
    // Both peers queue for both keys (one holds the key's gate, the other waits for it).
    await Cluster.waitQueued(env.db, 2 * keys.length, 20_000);

    const blackholedAt = wallNow();
    proxy.blackhole();
    const results = await Promise.all(
      names.map(async (k) => {
        const [ended, started] = await Promise.all([
          cut.waitFor((e) => e.ev === 'lost' && e.key === k, 10_000, `${k} to be given up`),
          takeover(cluster!, k, epochs.get(k)!, cut.nodeId),
        ]);
        return { ended, started };
      }),
    );
    for (const { ended, started } of results) {
      expect(ended.reason).toBe('renew-deadline');
      // Demoted by its own monotonic deadline, before the server handed the key on.
      expect(ended.t - blackholedAt).toBeLessThan(RENEW_DEADLINE_MS + 1_000);
      expect(ended.t).toBeLessThan(started.t);
      expect(started.t - blackholedAt).toBeLessThan(HANG_BOUND_MS);
    }

    // The network heals: whatever the cut-off leader still tries under its old terms is refused.
    proxy.resume();
    await expectStaleWriteRefused(cut, names[0]!, epochs.get(names[0]!)!);
    await expectConsistentReports(cluster);
  });
});
