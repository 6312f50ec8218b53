// G3 and G4 against a deposed leader that will not stop: its singleton ignores the abort and
// keeps four staggered fenced writers open (200 ms each), so at every instant at least one
// of its transactions holds the fence. The successor's epoch bump must still commit at once,
// and nothing the zombie writes after its lock is gone may be accepted.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, wallNow } from './cluster.js';
import { checkFencing } from './invariants.js';
import { type LeaderTestDatabase, leaderTestDatabase, testKeys } from './setup.js';

const [key] = testKeys(1);
const HOLD_MS = 200;

describe('a deposed leader whose singleton ignores its abort', { timeout: 60_000 }, () => {
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

  it('cannot starve its successor: the bump commits promptly and every later zombie write is refused', async () => {
    cluster = new Cluster({
      lockUrl: env.t.url,
      poolUrl: env.t.url,
      keys: [key!],
      writeEveryMs: 20,
      holdInTxMs: 0,
    });
    const zombie = cluster.spawn('zombie', { zombie: { writers: 4, holdMs: HOLD_MS } });
    const started = await zombie.waitFor((e) => e.ev === 'started', 20_000, 'the zombie to lead');
    const successor = cluster.spawn('successor');
    await Cluster.waitQueued(env.db, 1, 20_000);
    // Its writers overlap: several accepted writes before the fault.
    await zombie.log.until(
      () => zombie.events.filter((e) => e.ev === 'write' && e.ok).length >= 8,
      10_000,
      'the zombie to write',
    );

    const row = await env.db.query<{ backend_pid: number }>(
      'SELECT backend_pid FROM stratus_leadership WHERE key_id = $1',
      [key!.id],
    );
    const lockLostAt = wallNow();
    await env.db.query('SELECT pg_terminate_backend($1)', [row.rows[0]!.backend_pid]);
    const [lost, next] = await Promise.all([
      zombie.waitFor((e) => e.ev === 'lost', 10_000, 'the zombie to be told'),
      // FOR SHARE on the term row kept this bump waiting for as long as the zombie lived.
      successor.waitFor((e) => e.ev === 'started', 10_000, 'the successor to begin its term'),
    ]);
    expect(next.epoch).toBe(started.epoch! + 1);
    // Granted at once; the bump waits only for the writes already holding the fence (200 ms).
    expect(next.t - lockLostAt).toBeLessThan(1_500);

    // The zombie keeps writing: let it make a good number of attempts after the successor began.
    await zombie.log.until(
      () => zombie.events.filter((e) => e.ev === 'write' && (e.begunAt as number) > next.t).length >= 8,
      10_000,
      'the zombie to keep writing',
    );
    const afterLoss = zombie.events.filter((e) => e.ev === 'write' && (e.begunAt as number) > lockLostAt);
    expect(afterLoss.length).toBeGreaterThanOrEqual(8);
    expect(afterLoss.filter((e) => e.ok)).toEqual([]);
    expect(new Set(afterLoss.map((e) => e.code))).toEqual(new Set(['STALE_EPOCH']));
    expect(lost.reason).toBe('session-lost');
    // Its guard gave the singleton up after the grace instead of waiting for ever.
    await zombie.waitFor((e) => e.ev === 'stuck', 10_000, 'the zombie guard to give up its singleton');
    // The successor writes.
    await successor.waitFor((e) => e.ev === 'write' && e.ok === true, 10_000, 'a write of the successor');

    const report = await checkFencing(env.db);
    expect(report).toMatchObject({ overlaps: 0, regressions: 0, unknownEpochs: 0, afterLockLost: 0 });
  });
});
