// G6 through a replica's view of a shared cloud: a fault rule that hangs every compute
// call of a `stratus sim` opens the compute breaker of the resilient wrapper (timeouts are
// failures), after which compute calls are refused at once, while network calls through
// the same client and the same simulator stay fast.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { isCircuitOpenError, isTimeoutError } from '../../src/ha/resilience/errors.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const TOKEN = 'breaker-test-admin-token';
let sim: StratusProcess;
let url = '';

beforeAll(async () => {
  sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast', '--admin-token', TOKEN]);
  url = (await sim.waitForLog((r) => typeof r.url === 'string')).url as string;
});

afterAll(async () => {
  sim.child.kill('SIGTERM');
  await sim.exited;
});

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(path, url), {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

describe('a compute fault in the shared simulator', () => {
  it('opens the compute breaker while network calls stay fast', async () => {
    const backends = createBackends({
      cloudUrl: url,
      caller: 'replica-1',
      compute: { operations: { createInstance: { timeoutMs: 200 } } },
    });
    const spec = { name: 'web', image: 'ubuntu', size: 'small' };
    expect((await admin('POST', '/faults', { backend: 'compute', effect: { kind: 'hang' } })).status).toBe(
      201,
    );

    const outcomes: string[] = [];
    const started = performance.now();
    let openedAfterMs = 0;
    const networkMs: number[] = [];
    for (let i = 0; i < 8; i++) {
      // A network call alongside every compute call: it must not wait for compute's hang.
      const computeCall = backends.compute
        .createInstance(spec, { clientToken: `c${i}` })
        .catch((e: unknown) => e);
      const t0 = performance.now();
      await backends.network.listNetworks();
      networkMs.push(performance.now() - t0);
      const error = await computeCall;
      outcomes.push(isTimeoutError(error) ? 'timeout' : isCircuitOpenError(error) ? 'open' : String(error));
      if (openedAfterMs === 0 && backends.health().compute.breaker.state === 'open') {
        openedAfterMs = performance.now() - started;
      }
    }
    // Five consecutive failures open the breaker (the wrapper's default), then it refuses.
    expect(outcomes).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout', 'open', 'open', 'open']);
    expect(backends.health().network.breaker.state).toBe('closed');
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await backends.network.listNetworks();
      networkMs.push(performance.now() - t0);
    }
    // A network call waiting on compute's hang would take its 200 ms timeout: the calls made
    // alongside the hung ones must stay well below it. The median, not the p99: on a loaded
    // two-core machine one call in fifty may stall on the scheduler for that long by itself.
    const alongside = networkMs.slice(0, 5);
    expect(percentile(alongside, 0.5), `alongside the hung calls: ${alongside.join(', ')} ms`).toBeLessThan(
      100,
    );
    expect(percentile(networkMs, 0.5)).toBeLessThan(100);
    expect(openedAfterMs).toBeLessThan(5 * 200 + 1_000);
    // The same calls as the process publishes them for G6: three refusals, and the network
    // calls made while compute's breaker was open.
    const samples = backends.containment.samples('compute');
    expect(samples.failFastMs).toHaveLength(3);
    expect(samples.othersMs.length).toBeGreaterThanOrEqual(40);
    expect(backends.containment.samples('network')).toEqual({ failFastMs: [], othersMs: [] });
    // The hung calls never reached the cloud's effects: nothing was created or audited.
    const audit = (await (await fetch(new URL('/audit?backend=compute', url))).json()) as {
      entries: unknown[];
    };
    expect(audit.entries).toEqual([]);
    expect((await admin('DELETE', '/faults')).status).toBe(204);
  });
});
