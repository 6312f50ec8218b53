// G3 under a random schedule of SIGKILL, SIGSTOP and SIGCONT over three leader processes
// that all write fenced rows continuously. Bounded: 50 rounds of 50-500 ms each. The seed
// is printed, and TEST_CHAOS_SEED replays a schedule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Campaigner, Cluster } from './cluster.js';
import { checkFencing, committedWrites } from './invariants.js';
import { type LeaderTestDatabase, leaderTestDatabase, testKeys } from './setup.js';

const keys = testKeys(3);
const names = keys.map((k) => k.name);
const ROUNDS = 50;

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Failures that mean "the connection went away", after which nothing was committed or
 * decided, or that the fenced transaction's client-side deadline passed (a process stopped
 * in the middle of one finds its deadline gone when it is woken).
 */
const CONNECTION_FAILURE =
  /^(25P03|57P0[1-3]|08\d{3}|ECONNRESET|EPIPE|FENCE_DEADLINE) |Connection terminated|connection error|timeout exceeded when trying to connect/;

// The schedule alone is 15-25 s; at a load average of 16 on two cores the whole test took
// over 30 s (spawning replacements compiles TypeScript), so it gets its own budget.
describe('fencing under random crashes and pauses', { timeout: 120_000 }, () => {
  let env: LeaderTestDatabase;
  let cluster: Cluster;

  beforeAll(async () => {
    env = await leaderTestDatabase();
  });
  afterAll(async () => {
    await cluster?.end();
    await env.dispose();
  });

  it(`${ROUNDS} rounds of SIGKILL/SIGSTOP/SIGCONT: no overlap, no regression, every refusal a StaleEpochError`, async () => {
    const seed = Number(process.env.TEST_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seeded(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const log: string[] = [`seed ${seed}`];
    // Printed up front too, so a run that times out can still be replayed.
    console.info(`chaos schedule seed ${seed} (TEST_CHAOS_SEED replays it)`);

    cluster = new Cluster({ lockUrl: env.t.url, poolUrl: env.t.url, keys, writeEveryMs: 15, holdInTxMs: 5 });
    const slots: Campaigner[] = ['a', 'b', 'c'].map((n) => cluster.spawn(`${n}0`));
    let generation = 0;
    await cluster.leadersOf(names, 20_000);

    // A stop lasts either less than the hang bound (the leader keeps its keys) or longer
    // (it is replaced, and wakes up believing it still leads until it notices).
    const resumeAt = new Map<Campaigner, number>();
    for (let round = 1; round <= ROUNDS; round++) {
      const now = Date.now();
      // Faults hit processes that have started up (a fresh one takes about a second).
      const ready = slots.filter((m) => m.events.some((e) => e.ev === 'ready'));
      const running = ready.filter((m) => !m.stopped);
      const due = slots.filter((m) => m.stopped && resumeAt.get(m)! <= now);
      const leaders = names.flatMap((k) => cluster.believedLeaders(k)).filter((m) => !m.stopped);
      const r = random();
      if (due.length > 0 && r < 0.7) {
        const m = pick(due);
        m.signal('SIGCONT');
        log.push(`${round}: SIGCONT ${m.nodeId}`);
      } else if (random() < 0.55 && running.length > 1) {
        const m = leaders.length > 0 && random() < 0.8 ? pick(leaders) : pick(running);
        const forMs = random() < 0.5 ? 100 + random() * 900 : 3_500 + random() * 1_500;
        resumeAt.set(m, now + forMs);
        m.signal('SIGSTOP');
        log.push(`${round}: SIGSTOP ${m.nodeId} for ${Math.round(forMs)} ms`);
      } else if (running.length > 0) {
        const m = leaders.length > 0 && random() < 0.7 ? pick(leaders) : pick(running);
        m.signal('SIGKILL');
        const slot = slots.indexOf(m);
        slots[slot] = cluster.spawn(`${m.nodeId[0]}${++generation}`);
        log.push(`${round}: SIGKILL ${m.nodeId}, started ${slots[slot]!.nodeId}`);
      }
      // The schedule itself: how long the fault stands before the next one.
      await new Promise((resolve) => setTimeout(resolve, 100 + random() * 400));
    }
    for (const m of slots) if (m.stopped) m.signal('SIGCONT');

    // Liveness after the storm: every key gets a leader whose fenced writes are accepted.
    const epochs = await env.db.query<{ key: string; epoch: number }>(
      'SELECT key, epoch FROM stratus_leadership',
    );
    const floor = new Map(epochs.rows.map((r) => [r.key, r.epoch]));
    await Promise.all(
      names.map((k) =>
        cluster.next(
          (e) => e.ev === 'write' && e.key === k && e.ok === true && e.epoch! >= (floor.get(k) ?? 0),
          20_000,
          `an accepted write for ${k} after the storm`,
        ),
      ),
    );

    // Epilogue, so the fence is exercised whatever the schedule did: a leader is stopped
    // past the hang bound, replaced, woken, and made to write under its old term.
    const [key] = names;
    const deposed = (await cluster.leadersOf([key!], 20_000)).get(key!);
    const oldEpoch = deposed!.believedEpoch(key!)!;
    deposed!.signal('SIGSTOP');
    await cluster.next(
      (e) => e.ev === 'started' && e.key === key && e.epoch! > oldEpoch,
      20_000,
      `a leader of ${key} after the epilogue's stop`,
    );
    deposed!.signal('SIGCONT');
    for (let req = 1; req <= 5; req++) {
      const outcome = deposed!.next((e) => e.ev === 'write' && e.req === req, 10_000, 'the stale write');
      deposed!.send({ cmd: 'write-stale', key, req });
      if ((await outcome).code === 'STALE_EPOCH') break;
    }
    await cluster.end();

    const report = await checkFencing(env.db);
    const committed = await committedWrites(env.db);
    const writes = cluster.events.filter((e) => e.ev === 'write');
    const refused = writes.filter((e) => e.code === 'STALE_EPOCH');
    const failed = writes.filter((e) => e.ok === false && e.code !== 'STALE_EPOCH');
    const summary = {
      ...report,
      reportedWrites: writes.length,
      refused: refused.length,
      failed: failed.length,
    };
    const context = `${log.join('\n')}\n${JSON.stringify(summary)}`;
    if (process.env.TEST_CHAOS_VERBOSE) {
      const t0 = cluster.events[0]!.t;
      const timeline = cluster.events
        .filter((e) => e.ev !== 'write' || !e.ok)
        .map(
          (e) =>
            `${Math.round(e.t - t0)} ${e.node} ${e.ev} ${e.key ?? ''} ${e.epoch ?? ''} ${e.reason ?? e.code ?? ''}`,
        );
      console.log(`${context}\n${timeline.join('\n')}`);
    }

    expect(report.terms, context).toBeGreaterThan(5);
    expect(report.writes, context).toBeGreaterThan(10);
    // Deposed leaders did wake up and write: the fence, not luck, kept the invariants.
    expect(refused.length, context).toBeGreaterThan(0);
    expect(report.overlaps, context).toBe(0);
    expect(report.regressions, context).toBe(0);
    expect(report.unknownEpochs, context).toBe(0);
    expect(report.afterLockLost, context).toBe(0);
    for (const w of writes) {
      const id = `${w.node}#${w.n}`;
      if (w.ok) expect(committed.has(id), `accepted ${id} missing\n${context}`).toBe(true);
      if (w.code === 'STALE_EPOCH')
        expect(committed.has(id), `refused ${id} committed\n${context}`).toBe(false);
    }
    // A write that reached the fence with an old epoch got StaleEpochError; every other
    // failure is a connection the server or a kill ended.
    for (const w of failed) {
      expect(`${w.code} ${w.message}`, context).toMatch(CONNECTION_FAILURE);
    }
  });
});
