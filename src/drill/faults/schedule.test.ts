import { describe, expect, it } from 'vitest';
import type { FaultStep, Scenario } from '../evidence.js';
import { seededRandom } from './random.js';
import { Occupancy, timeline } from './schedule.js';

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
