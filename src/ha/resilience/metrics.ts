// Prometheus series for named policies. The registry is always passed in: registering on
// prom-client's global registry would collide between two stacks in one process (tests,
// several control planes) and hide which one a series belongs to.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { BreakerState } from './breaker/options.js';
import type { Bulkhead } from './bulkhead.js';
import type { Retry } from './retry.js';
import type { Timeout } from './timeout.js';

const STATES: readonly BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];

/** Binds policies to the series of one registry. */
export interface ResilienceMetrics {
  /** Exports a breaker's state, transitions and rejections. Returns an unbind function. */
  observeBreaker(breaker: CircuitBreaker): () => void;
  /** Exports a bulkhead's in-flight and queued calls and its rejections. */
  observeBulkhead(bulkhead: Bulkhead): () => void;
  /** Counts a retry policy's retries. */
  observeRetry(retry: Retry): () => void;
  /** Counts a timeout policy's timeouts. */
  observeTimeout(timeout: Timeout): () => void;
}

/**
 * Registers the resilience series on `registry` (once per registry) and returns the
 * binder. Event-driven counters cost nothing on the success path; gauges are read from
 * the policies' snapshots at scrape time.
 *
 * @param registry where the series live (never prom-client's global registry)
 * @param prefix prepended to every series name; default `stratus_`
 */
export function createResilienceMetrics(registry: Registry, prefix = 'stratus_'): ResilienceMetrics {
  const breakers = new Set<CircuitBreaker>();
  const bulkheads = new Set<Bulkhead>();
  const registers = [registry];

  new Gauge({
    name: `${prefix}breaker_state`,
    help: 'Circuit breaker state: 1 for the current state, 0 for the others',
    labelNames: ['policy', 'state'],
    registers,
    collect() {
      this.reset();
      for (const breaker of breakers) {
        const state = breaker.state;
        for (const s of STATES) this.set({ policy: breaker.name, state: s }, s === state ? 1 : 0);
      }
    },
  });
  const transitions = new Counter({
    name: `${prefix}breaker_transitions_total`,
    help: 'Circuit breaker state changes',
    labelNames: ['policy', 'from', 'to', 'reason'],
    registers,
  });
  const rejections = new Counter({
    name: `${prefix}resilience_rejections_total`,
    help: 'Calls refused without running, by policy kind and reason',
    labelNames: ['policy', 'kind', 'reason'],
    registers,
  });
  new Gauge({
    name: `${prefix}bulkhead_in_flight`,
    help: 'Bulkhead slots in use',
    labelNames: ['policy'],
    registers,
    collect() {
      this.reset();
      for (const b of bulkheads) this.set({ policy: b.name }, b.inFlight);
    },
  });
  new Gauge({
    name: `${prefix}bulkhead_queued`,
    help: 'Calls waiting for a bulkhead slot',
    labelNames: ['policy'],
    registers,
    collect() {
      this.reset();
      for (const b of bulkheads) this.set({ policy: b.name }, b.queued);
    },
  });
  const retries = new Counter({
    name: `${prefix}retries_total`,
    help: 'Retries (attempts after the first)',
    labelNames: ['policy'],
    registers,
  });
  const timeouts = new Counter({
    name: `${prefix}timeouts_total`,
    help: 'Calls that hit their deadline',
    labelNames: ['policy'],
    registers,
  });

  return {
    observeBreaker(breaker) {
      breakers.add(breaker);
      const offChange = breaker.onStateChange.on((e) =>
        transitions.inc({ policy: e.breaker, from: e.from, to: e.to, reason: e.reason }),
      );
      const offReject = breaker.onRejected.on((e) =>
        rejections.inc({ policy: e.breaker, kind: 'breaker', reason: e.state }),
      );
      return () => {
        breakers.delete(breaker);
        offChange();
        offReject();
      };
    },
    observeBulkhead(bulkhead) {
      bulkheads.add(bulkhead);
      const off = bulkhead.onRejected.on((e) =>
        rejections.inc({ policy: e.bulkhead, kind: 'bulkhead', reason: e.reason }),
      );
      return () => {
        bulkheads.delete(bulkhead);
        off();
      };
    },
    observeRetry(retry) {
      return retry.onRetry.on((e) => retries.inc({ policy: e.policy }));
    },
    observeTimeout(timeout) {
      return timeout.onTimeout.on((e) => timeouts.inc({ policy: e.policy }));
    },
  };
}
