// Failover benchmark of leader election (G3, G4): four campaigner processes on a real
// PostgreSQL, one leadership key, every leader writing fenced rows continuously. Before each
// fault two other processes are queued for the key; the fourth hides the second or so a
// killed process's replacement takes to start. Kills the
// current leader with SIGKILL (crash) and SIGSTOP (hang) again and again and measures, by
// the processes' own event times:
//   crash/hang failover: signal sent -> the new leader's singleton started;
//   demotion lag: a stopped leader woken with SIGCONT -> it stops believing it leads;
//   zombie failover: a leader whose singleton ignores its abort and keeps four staggered
//   200 ms fenced writers open loses its lock session (pg_terminate_backend) -> the new
//   leader's singleton started; every zombie write begun after the loss must be refused;
//   overlaps: fenced writes of epoch e committed after epoch e+1 was bumped, in the
//   database's commit order (must be 0).
// Usage: npm run bench:failover [-- --quick]   (quick: 20 crashes + 5 hangs + 3 zombies)
// The last line of output is one JSON object.
import { type Campaigner, Cluster } from '../test/leader/cluster.js';
import { checkFencing } from '../test/leader/invariants.js';
import { leaderTestDatabase, testKeys } from '../test/leader/setup.js';

const quick = process.argv.includes('--quick');
const CRASHES = quick ? 20 : 100;
const HANGS = quick ? 5 : 20;
const ZOMBIES = quick ? 3 : 10;
const [key] = testKeys(1);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round1 = (v: number) => Math.round(v * 10) / 10;
const stats = (values: number[]) => ({
  n: values.length,
  p50: round1(percentile(values, 50)),
  p99: round1(percentile(values, 99)),
  max: round1(Math.max(...values)),
});

async function main(): Promise<void> {
  const started = Date.now();
  const env = await leaderTestDatabase();
  const cluster = new Cluster({
    lockUrl: env.t.url,
    poolUrl: env.t.url,
    keys: [key!],
    writeEveryMs: 10,
    holdInTxMs: 0,
  });
  const crash: number[] = [];
  const hang: number[] = [];
  const demotionLag: number[] = [];
  const zombieFailover: number[] = [];
  let zombieAcceptedAfterLoss = 0;
  let zombieRefusedAfterLoss = 0;
  let staleRefused = 0;
  let staleAcceptedByLeaders = 0;
  let requests = 0;
  let generation = 0;
  try {
    const slots: Campaigner[] = ['a', 'b', 'c', 'd'].map((n) => cluster.spawn(`${n}${generation}`));
    const steady = async () => {
      const leaders = await cluster.leadersOf([key!.name], 20_000);
      // At least two other processes queue for the key before the next fault.
      await Cluster.waitQueued(env.db, 2, 20_000);
      return leaders.get(key!.name)!;
    };
    /** Signals the steady leader and measures the time to the new leader's singleton start. */
    const fault = async (sig: 'SIGKILL' | 'SIGSTOP') => {
      const leader = await steady();
      const epoch = leader.believedEpoch(key!.name)!;
      const next = cluster.next(
        (e) => e.ev === 'started' && e.key === key!.name && e.epoch! > epoch,
        20_000,
        'the new leader',
      );
      const at = leader.signal(sig);
      return { leader, epoch, failoverMs: (await next).t - at };
    };

    for (let i = 0; i < CRASHES; i++) {
      const { leader, failoverMs } = await fault('SIGKILL');
      crash.push(failoverMs);
      const slot = slots.indexOf(leader);
      slots[slot] = cluster.spawn(`${leader.nodeId[0]}${++generation}`);
    }

    for (let i = 0; i < HANGS; i++) {
      const { leader, epoch, failoverMs } = await fault('SIGSTOP');
      hang.push(failoverMs);
      const lost = leader.next(
        (e) => e.ev === 'lost' && e.key === key!.name && e.epoch === epoch,
        20_000,
        'the woken leader to step down',
      );
      const ended = leader.next(
        (e) => e.ev === 'ended' && e.key === key!.name && e.epoch === epoch,
        20_000,
        'its singleton to return',
      );
      const resumedAt = leader.signal('SIGCONT');
      demotionLag.push((await lost).t - resumedAt);
      await ended;
      // The deposed leader writes once more under its old term: the fence must refuse it
      // (a pooled connection the server ended during the stop fails first; then retry).
      for (let attempt = 0; attempt < 5; attempt++) {
        const req = ++requests;
        const outcome = leader.next((e) => e.ev === 'write' && e.req === req, 20_000, 'the stale write');
        leader.send({ cmd: 'write-stale', key: key!.name, req });
        const result = await outcome;
        if (result.ok) staleAcceptedByLeaders++;
        if (result.ok || result.code === 'STALE_EPOCH') {
          if (!result.ok) staleRefused++;
          break;
        }
      }
    }

    // Zombies: the zombie must lead, so the others stop first and it starts alone.
    await cluster.end();
    for (let i = 0; i < ZOMBIES; i++) {
      const zombie = cluster.spawn(`zombie${i}`, { zombie: { writers: 4, holdMs: 200 } });
      const started = await zombie.waitFor((e) => e.ev === 'started', 30_000, 'the zombie to lead');
      const peers = ['p', 'q'].map((n) => cluster.spawn(`${n}${++generation}`));
      await Cluster.waitQueued(env.db, 2, 30_000);
      await zombie.log.until(
        () => zombie.events.filter((e) => e.ev === 'write' && e.ok).length >= 4,
        20_000,
        'the zombie to write',
      );
      const row = await env.db.query<{ backend_pid: number }>(
        'SELECT backend_pid FROM stratus_leadership WHERE key_id = $1',
        [key!.id],
      );
      const next = cluster.next(
        (e) => e.ev === 'started' && e.key === key!.name && e.epoch! > started.epoch!,
        20_000,
        'the zombie successor',
      );
      const lostAt = performance.timeOrigin + performance.now();
      await env.db.query('SELECT pg_terminate_backend($1)', [row.rows[0]!.backend_pid]);
      const successor = await next;
      zombieFailover.push(successor.t - lostAt);
      // Let the zombie try for a while under the new term, then count.
      await zombie.log.until(
        () =>
          zombie.events.filter((e) => e.ev === 'write' && (e.begunAt as number) > successor.t).length >= 8,
        20_000,
        'the zombie to keep writing',
      );
      for (const e of zombie.events) {
        if (e.ev !== 'write' || (e.begunAt as number) <= lostAt) continue;
        if (e.ok) zombieAcceptedAfterLoss++;
        else if (e.code === 'STALE_EPOCH') zombieRefusedAfterLoss++;
      }
      zombie.signal('SIGKILL');
      await Promise.all([zombie.exited, ...peers.map((p) => p.end())]);
    }
  } finally {
    await cluster.end();
  }
  const fencing = await checkFencing(env.db);
  await env.dispose();

  // A stale write accepted: an overlap (a write of epoch e committed after e+1 began), or a
  // deposed leader's explicit write under its old term that was not refused.
  const staleAccepted = fencing.overlaps + staleAcceptedByLeaders + zombieAcceptedAfterLoss;
  const rows: [string, ReturnType<typeof stats>][] = [
    ['crash failover (SIGKILL -> new singleton)', stats(crash)],
    ['hang failover (SIGSTOP -> new singleton)', stats(hang)],
    ['demotion lag (SIGCONT -> stepped down)', stats(demotionLag)],
    ['zombie failover (lock lost -> new singleton)', stats(zombieFailover)],
  ];
  console.log(`leader failover, ${quick ? 'quick' : 'full'} run, 4 processes, 1 key, PostgreSQL`);
  console.log(`${'measure'.padEnd(45)}   n    p50 ms   p99 ms   max ms`);
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(45)} ${String(s.n).padStart(3)} ${String(s.p50).padStart(9)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`,
    );
  }
  console.log(
    `terms ${fencing.terms}, fenced writes committed ${fencing.writes}, deposed leaders' writes refused ${staleRefused} ` +
      `and accepted ${staleAcceptedByLeaders}, zombie writes after lock loss refused ${zombieRefusedAfterLoss} ` +
      `and accepted ${zombieAcceptedAfterLoss}, ` +
      `overlaps ${fencing.overlaps}, epoch regressions ${fencing.regressions}, made after their lock was lost ${fencing.afterLockLost}, wall ${Math.round((Date.now() - started) / 1000)} s`,
  );
  console.log(
    JSON.stringify({
      crash_failover_p50_ms: rows[0]![1].p50,
      crash_failover_p99_ms: rows[0]![1].p99,
      crash_failover_max_ms: rows[0]![1].max,
      hang_failover_p50_ms: rows[1]![1].p50,
      hang_failover_max_ms: rows[1]![1].max,
      demotion_lag_p99_ms: rows[2]![1].p99,
      zombie_failover_max_ms: rows[3]![1].max,
      zombie_writes_accepted_after_loss: zombieAcceptedAfterLoss,
      zombie_writes_refused_after_loss: zombieRefusedAfterLoss,
      overlaps: fencing.overlaps,
      after_lock_lost: fencing.afterLockLost,
      stale_writes_accepted: staleAccepted,
      stale_writes_refused: staleRefused,
      crashes: crash.length,
      hangs: hang.length,
      zombies: zombieFailover.length,
    }),
  );
  if (staleAccepted > 0 || fencing.regressions > 0 || fencing.unknownEpochs > 0 || fencing.afterLockLost > 0)
    process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
