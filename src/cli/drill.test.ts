import { describe, expect, it } from 'vitest';
import { parseRunArgs, UsageError } from './drill.js';

const problem = (args: string[]) => {
  try {
    parseRunArgs(args, {});
    return undefined;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return err.message;
  }
};

describe('stratus drill run: the command line', () => {
  it('takes scenarios and flags, with defaults', () => {
    const o = parseRunArgs(
      [
        'api-crash',
        'leader-crash',
        '--duration',
        '90s',
        '--rate=5',
        '--replicas',
        'api=3,worker=2',
        '--gate',
        'g.json',
        '--keep',
      ],
      {
        DATABASE_URL: 'postgres://db/x',
      },
    );
    expect(o).toMatchObject({
      scenarios: ['api-crash', 'leader-crash'],
      durationMs: 90_000,
      ratePerS: 5,
      replicas: { api: 3, worker: 2 },
      gateFile: 'g.json',
      keep: true,
      seed: 1,
      databaseUrl: 'postgres://db/x',
      settleMs: 120_000,
    });
    expect(o.redisUrl).toBeUndefined();
  });

  it('names the flag it cannot take', () => {
    expect(problem([])).toMatch(/at least one scenario/);
    expect(problem(['a', '--duration', 'long'])).toMatch(/^--duration/);
    expect(problem(['a', '--rate', '0'])).toMatch(/^--rate/);
    expect(problem(['a', '--replicas', 'api=2,db=1'])).toMatch(/^--replicas/);
    expect(problem(['a', '--replicas', 'api=0,worker=1'])).toMatch(/^--replicas/);
    expect(problem(['a', '--seed', '-3'])).toMatch(/^--seed/);
    expect(problem(['a', '--frobnicate', '1'])).toMatch(/unknown option --frobnicate/);
    expect(problem(['a', '--out'])).toMatch(/^--out: needs a value/);
  });
});
