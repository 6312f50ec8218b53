import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import { Bulkhead } from './bulkhead.js';
import { ManualClock } from './clock.js';
import { createResilienceMetrics } from './metrics.js';
import { compose } from './policy.js';
import { Retry } from './retry.js';
import { deferred } from './test-support.js';
import { Timeout } from './timeout.js';

describe('resilience metrics', () => {
  it('exports state, transitions, rejections, bulkhead load, retries and timeouts per named policy', async () => {
    const registry = new Registry();
    const metrics = createResilienceMetrics(registry);
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ name: 'compute', consecutiveFailures: 1, clock });
    const bulkhead = new Bulkhead({ name: 'compute', maxConcurrent: 1 });
    const timeout = new Timeout({ name: 'compute.get', timeoutMs: 10, scheduler: clock });
    const retry = new Retry({ name: 'compute.get', maxAttempts: 1 });
    metrics.observeBreaker(breaker);
    metrics.observeBulkhead(bulkhead);
    metrics.observeTimeout(timeout);
    metrics.observeRetry(retry);

    const gate = deferred();
    const held = compose(bulkhead).execute(() => gate.promise);
    await compose(bulkhead)
      .execute(() => 0)
      .catch(() => {});
    const timedOut = compose(breaker, timeout)
      .execute(() => new Promise(() => {}))
      .catch(() => {});
    clock.advance(10);
    await timedOut;
    await compose(breaker)
      .execute(() => 0)
      .catch(() => {});

    const text = await registry.metrics();
    expect(text).toContain('stratus_breaker_state{policy="compute",state="open"} 1');
    expect(text).toContain(
      'stratus_breaker_transitions_total{policy="compute",from="closed",to="open",reason="consecutive-failures"} 1',
    );
    expect(text).toContain(
      'stratus_resilience_rejections_total{policy="compute",kind="bulkhead",reason="full"} 1',
    );
    expect(text).toContain(
      'stratus_resilience_rejections_total{policy="compute",kind="breaker",reason="open"} 1',
    );
    expect(text).toContain('stratus_bulkhead_in_flight{policy="compute"} 1');
    expect(text).toContain('stratus_timeouts_total{policy="compute.get"} 1');
    gate.resolve();
    await held;
  });
});
