import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isScenarioError, loadScenario, parseScenario, SCENARIO_DIR } from './scenario.js';

const step = { at: '5s', action: 'kill', target: 'api' };
const doc = (steps: unknown[], extra: Record<string, unknown> = {}) => ({
  name: 'x',
  description: 'd',
  steps,
  ...extra,
});

function problemOf(input: unknown): string | undefined {
  try {
    parseScenario(input, 's');
    return undefined;
  } catch (err) {
    if (!isScenarioError(err)) throw err;
    return err.field;
  }
}

describe('scenario files', () => {
  it('loads every shipped scenario', () => {
    const names = readdirSync(SCENARIO_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
    expect(names).toContain('chaos');
    for (const name of names) expect(loadScenario(name).name).toBe(name);
  });

  it('turns durations into milliseconds', () => {
    const s = parseScenario(
      doc([
        { ...step, at: '1.5s' },
        { at: 250, action: 'pause', target: 'worker-2', for: '2m' },
      ]),
      's',
    );
    expect(s.steps).toEqual([
      { atMs: 1500, action: 'kill', target: 'api' },
      { atMs: 250, action: 'pause', target: 'worker-2', forMs: 120_000 },
    ]);
  });

  it('names the first bad field', () => {
    expect(problemOf(doc([{ ...step, action: 'explode' }]))).toBe('s.steps[0].action');
    expect(problemOf(doc([{ ...step, target: 'leader:' }]))).toBe('s.steps[0].target');
    expect(problemOf(doc([{ ...step, at: 'soon' }]))).toBe('s.steps[0].at');
    expect(problemOf(doc([{ ...step, fro: '1s' }]))).toBe('s.steps[0].fro');
    expect(problemOf(doc([{ at: '1s', action: 'pause', target: 'api' }]))).toBe('s.steps[0].for');
    expect(problemOf(doc([]))).toBe('s.steps');
    expect(problemOf(doc([step], { chaos: { every: '1ms' } }))).toBe('s.chaos.every');
    expect(problemOf({ ...doc([step]), name: 'Bad Name' })).toBe('s.name');
    expect(problemOf(doc([step]))).toBeUndefined();
    const down = { at: '1s', action: 'database-primary-down', target: 'backend:database', for: '12s' };
    expect(problemOf(doc([down]))).toBeUndefined();
    expect(problemOf(doc([{ ...down, target: 'backend:compute' }]))).toBe('s.steps[0].target');
    expect(problemOf(doc([{ ...down, action: 'backend-outage' }]))).toBe('s.steps[0].target');
    expect(problemOf(doc([{ ...down, for: undefined }]))).toBe('s.steps[0].for');
  });

  it('refuses a scenario that does not exist', () => {
    expect(() => loadScenario('no-such-scenario')).toThrow(/no such scenario/);
  });
});
