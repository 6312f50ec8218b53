import { describe, expect, it } from 'vitest';
import { until } from '../../../test/helpers/poll.js';
import type { FaultRecord, FaultStep, Scenario } from '../evidence.js';
import { injectFault } from './inject.js';
import { seededRandom } from './random.js';
import { Occupancy, runFaults, timeline } from './schedule.js';

const pool: FaultStep[] = [
  { atMs: 0, action: 'kill', target: 'api' },
  { atMs: 0, action: 'redis-flushall', target: 'redis' },
  { atMs: 0, action: 'rolling-restart', target: 'all' },
];
const chaos: Scenario = { name: 'chaos', description: '', steps: [], chaos: { everyMs: 1_000 } };
const one = (name: string, atMs: number): Scenario => ({
  name,
  description: '',
  steps: [{ atMs, action: 'kill', target: 'worker' }],
});

describe('the fault timeline', () => {
  it('gives each scenario an equal window, in order', () => {
    const steps = timeline(
      [one('a', 5_000), one('b', 5_000), one('c', 1_000)],
      60_000,
      seededRandom(1),
      pool,
    );
    expect(steps.map((s) => [s.scenario, s.step.atMs])).toEqual([
      ['a', 5_000],
      ['b', 25_000],
      ['c', 41_000],
    ]);
  });

  it('draws chaos from the seed: the same seed, the same run; another seed, another', () => {
    const a = timeline([chaos], 300_000, seededRandom(7), pool);
    const b = timeline([chaos], 300_000, seededRandom(7), pool);
    const c = timeline([chaos], 300_000, seededRandom(8), pool);
    expect(a).toEqual(b);
    expect(a.map((s) => s.step.action)).not.toEqual(c.map((s) => s.step.action));
    expect(a).toHaveLength(299);
    // A rolling restart once every 100 steps, never otherwise.
    expect(a.filter((s) => s.step.action === 'rolling-restart').map((s) => s.step.atMs)).toEqual([
      51_000, 151_000, 251_000,
    ]);
  });
});

describe('the replica locks', () => {
  const replica = (name: string) => ({ name, role: name.split('-')[0] as 'api' | 'worker' });
  const group = { replicas: ['api-1', 'api-2', 'worker-1', 'worker-2', 'worker-3'].map(replica) } as never;
  const random = seededRandom(3);

  it('never lets every replica of a role be in a fault at once', async () => {
    const locks = new Occupancy(group);
    const first = await locks.take([['api-1'], ['api-2']], random);
    let second: readonly string[] | undefined;
    const waiting = locks.take([['api-1'], ['api-2']], random).then((got) => {
      second = got;
    });
    // Two of three workers may be in faults together, while the api waits.
    expect(await locks.take([['worker-1']], random)).toEqual(['worker-1']);
    expect(await locks.take([['worker-2']], random)).toEqual(['worker-2']);
    await Promise.resolve();
    expect(second).toBeUndefined();
    locks.release(first);
    await waiting;
    expect(second).toHaveLength(1);
  });

  it('runs a rolling restart alone', async () => {
    const locks = new Occupancy(group);
    const one = await locks.take([['worker-3']], random);
    let rolling: readonly string[] | undefined;
    const waiting = locks
      .take([['api-1', 'api-2', 'worker-1', 'worker-2', 'worker-3']], random, true)
      .then((got) => {
        rolling = got;
      });
    await Promise.resolve();
    expect(rolling).toBeUndefined();
    locks.release(one);
    await waiting;
    expect(rolling).toHaveLength(5);
  });
});

describe('faults on api replicas, as HAProxy sees them', () => {
  const replica = (name: string) => ({ name, role: name.split('-')[0] as 'api' | 'worker' });
  /** A balancer whose server states the test sets, counting how often it was read. */
  const balancer = (states: Record<string, string>) => {
    const view = { reads: 0, states: new Map(Object.entries(states)) };
    return { view, serverStates: async () => (view.reads++, new Map(view.states)) };
  };
  const run = (
    steps: FaultStep[],
    lb: ReturnType<typeof balancer>,
    deferMaxMs = 10_000,
    group = { replicas: ['api-1', 'api-2', 'worker-1'].map(replica) },
    signal = new AbortController().signal,
  ) => {
    const injected: string[] = [];
    const records: FaultRecord[] = [];
    const skipped: string[] = [];
    const t0 = Date.now();
    const done = runFaults(
      steps.map((step) => ({ scenario: 's', step })),
      {
        group: group as never,
        random: seededRandom(1),
        now: () => Date.now() - t0,
        onRecord: (r) => records.push(r),
        onError: (_s, err) => {
          throw err;
        },
        onSkipped: (s, reason) => skipped.push(`${s.step.target}: ${reason}`),
        signal,
        balancer: lb,
        deferMaxMs,
        inject: async (_ctx, step) => {
          injected.push(step.target);
          return {
            scenario: 's',
            action: step.action,
            target: step.target,
            resolved: step.target,
            startT: 0,
            endT: 0,
          };
        },
      },
    );
    return { done, injected, records, skipped };
  };

  it('defers a fault on one api replica while HAProxy shows the other not UP, and records how long', async () => {
    const lb = balancer({ 'api-1': 'UP', 'api-2': 'DOWN 1/2' });
    const r = run([{ atMs: 0, action: 'kill', target: 'api-1' }], lb);
    await until(() => lb.view.reads >= 3, 5_000, 'the scheduler to look at HAProxy again');
    expect(r.injected).toEqual([]);
    lb.view.states.set('api-2', 'UP');
    await r.done;
    expect(r.injected).toEqual(['api-1']);
    expect(r.records[0]?.deferredMs).toBeGreaterThan(0);
    expect(r.skipped).toEqual([]);
  });

  it('a role target picks the replica whose loss leaves one UP; with none UP it is skipped after the wait', async () => {
    const lb = balancer({ 'api-1': 'UP', 'api-2': 'DOWN' });
    const picked = run([{ atMs: 0, action: 'kill', target: 'api' }], lb);
    await picked.done;
    expect(picked.injected).toEqual(['api-2']);
    expect(picked.records[0]?.deferredMs).toBeUndefined();

    const none = balancer({ 'api-1': 'DOWN', 'api-2': 'MAINT' });
    const gaveUp = run(
      [
        { atMs: 0, action: 'kill', target: 'api-1' },
        { atMs: 0, action: 'kill', target: 'worker-1' },
      ],
      none,
      300,
    );
    await gaveUp.done;
    expect(gaveUp.injected).toEqual(['worker-1']);
    expect(gaveUp.skipped).toEqual([expect.stringContaining('api-1: no other api replica UP in HAProxy')]);
  });

  it('skips a deferred step once the load has ended, rather than injecting it into a stopping cluster', async () => {
    const lb = balancer({ 'api-1': 'UP', 'api-2': 'DOWN 1/2' });
    const loadDone = new AbortController();
    const r = run([{ atMs: 0, action: 'kill', target: 'api-1' }], lb, 10_000, undefined, loadDone.signal);
    await until(() => lb.view.reads >= 2, 5_000, 'the step to be deferred');
    loadDone.abort();
    lb.view.states.set('api-2', 'UP');
    await r.done;
    expect(r.injected).toEqual([]);
    expect(r.records).toEqual([]);
  });

  it('starts a rolling restart only once every api replica is UP', async () => {
    const lb = balancer({ 'api-1': 'UP', 'api-2': 'DOWN 1/2' });
    const r = run([{ atMs: 0, action: 'rolling-restart', target: 'all' }], lb, 300);
    await r.done;
    expect(r.injected).toEqual([]);
    expect(r.skipped).toHaveLength(1);
    const ok = balancer({ 'api-1': 'UP', 'api-2': 'UP 1/2' });
    const started = run([{ atMs: 0, action: 'rolling-restart', target: 'all' }], ok, 300);
    await started.done;
    expect(started.injected).toEqual(['all']);
  });

  it("an api replica's kill is over only once HAProxy shows it UP again, not once it is ready", async () => {
    const lb = balancer({ 'api-1': 'DOWN', 'api-2': 'UP' });
    const api1 = { ...replica('api-1'), process: { pid: 1 } };
    const steps: string[] = [];
    const group = {
      replicas: [api1, replica('api-2')],
      balancer: lb,
      endReplica: async () => steps.push('ended'),
      startReplica: async () => steps.push('ready'),
    };
    const t0 = Date.now();
    let upAt = Number.POSITIVE_INFINITY;
    const injecting = injectFault(
      { group: group as never, scenario: 's', random: seededRandom(1), now: () => Date.now() - t0 },
      { atMs: 0, action: 'kill', target: 'api-1' },
    );
    await until(
      () => steps.includes('ready') && lb.view.reads >= 3,
      5_000,
      'the replica ready, HAProxy asked',
    );
    upAt = Date.now() - t0;
    lb.view.states.set('api-1', 'UP');
    const record = await injecting;
    expect(steps).toEqual(['ended', 'ready']);
    expect(record.endT).toBeGreaterThanOrEqual(upAt);
  });
});
