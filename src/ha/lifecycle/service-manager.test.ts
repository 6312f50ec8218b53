import { describe, expect, it } from 'vitest';
import type { Runnable } from './runnable.js';
import { ServiceManager } from './service-manager.js';

function untilAborted(name: string, log: string[]): Runnable {
  return {
    name,
    start: (signal) =>
      new Promise<void>((resolve) => {
        log.push(`start ${name}`);
        signal.addEventListener('abort', () => {
          log.push(`stop ${name}`);
          resolve();
        });
      }),
  };
}

describe('ServiceManager', () => {
  it('starts every runnable and stops them all with one abort', async () => {
    const log: string[] = [];
    const m = new ServiceManager().add(untilAborted('a', log)).add(untilAborted('b', log));
    m.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['start a', 'start b']);
    const report = await m.stop(1_000);
    expect(report).toEqual({ stopped: ['a', 'b'], timedOut: [] });
    expect(log).toEqual(['start a', 'start b', 'stop a', 'stop b']);
  });

  it('reports a runnable that ignores the abort as timed out, without waiting past the deadline', async () => {
    const m = new ServiceManager().add({ name: 'stuck', start: () => new Promise(() => {}) });
    m.start();
    const report = await m.stop(50);
    expect(report).toEqual({ stopped: [], timedOut: ['stuck'] });
  });

  it('keeps the others running when one fails, and reports the failure', async () => {
    const exits: Array<[string, string | undefined]> = [];
    const log: string[] = [];
    const m = new ServiceManager({ onExit: (name, err) => exits.push([name, err?.message]) })
      .add({ name: 'bad', start: async () => Promise.reject(new Error('boom')) })
      .add(untilAborted('good', log));
    m.start();
    await expect.poll(() => exits).toEqual([['bad', 'boom']]);
    expect(log).toEqual(['start good']);
    expect((await m.stop(1_000)).stopped).toContain('good');
  });

  it('refuses duplicate names and late additions', () => {
    const m = new ServiceManager().add(untilAborted('x', []));
    expect(() => m.add(untilAborted('x', []))).toThrow(/already registered/);
    m.start();
    expect(() => m.add(untilAborted('y', []))).toThrow(/has started/);
    return m.stop(100);
  });
});
