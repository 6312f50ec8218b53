import { get } from 'node:http';
import { setTimeout as pause } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { isReady, killAllStratus, spawnStratus } from '../helpers/stratus-process.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await killAllStratus();
  await t.drop();
});

type Outcome = { at: number; what: string };

/** One GET on a new connection, as a load balancer's health check makes it. */
function probe(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/**
 * The outcomes with repeats collapsed: [200, 200, 503, 503, refused] -> [200, 503, refused]. A
 * probe whose connection the closing listener reset in the instant it closed (a loaded machine
 * lands one there now and then) is part of the closing, not a phase of its own: dropped when a
 * refusal follows it.
 */
const phases = (outcomes: Outcome[]) =>
  outcomes
    .map((o) => o.what)
    .filter((w, i, all) => !(w === 'ECONNRESET' && all.slice(i + 1).every((n) => n === 'ECONNREFUSED')))
    .filter((w, i, all) => i === 0 || all[i - 1] !== w);

describe('drain window', () => {
  it('answers 503 on /readyz for the drain delay while still serving, then refuses connections', async () => {
    const drainDelayMs = 1_500;
    const p = spawnStratus(
      [
        'start',
        '--role',
        'api',
        '--port',
        '0',
        '--node-id',
        'drain-1',
        '--drain-delay-ms',
        String(drainDelayMs),
      ],
      { DATABASE_URL: t.url },
    );
    const ready = await p.waitForLog(isReady, 60_000);
    const url = `${ready.url as string}/readyz`;
    const outcomes: Outcome[] = [];
    let signalledAt = Number.NaN;
    const deadline = performance.now() + 20_000;
    while (performance.now() < deadline) {
      const what = await probe(url);
      outcomes.push({ at: performance.now(), what });
      if (what === 'ECONNREFUSED') break;
      // Ten answers before the signal, so the poller is seen to work while ready.
      if (outcomes.length === 10) {
        signalledAt = performance.now();
        p.child.kill('SIGTERM');
      }
      await pause(20);
    }
    expect(phases(outcomes)).toEqual(['200', '503', 'ECONNREFUSED']);
    const served503 = outcomes.filter((o) => o.what === '503');
    // The 503s span the drain delay (less one poll interval and the signal's delivery).
    expect(served503.at(-1)!.at - signalledAt).toBeGreaterThanOrEqual(drainDelayMs - 200);
    expect((await p.exited).code).toBe(0);
    expect(p.logs.some((l) => l.msg === 'draining: /readyz answers 503, requests are still served')).toBe(
      true,
    );
  });
});
