// What this process publishes of its backend breakers with every node heartbeat: a breaker
// lives in the process that calls the backend (a worker), so an API replica answering
// `GET /v1/system/breakers` reads every process's report from the node registry instead of its
// own breakers.

import type { ContainmentSamples } from '../backends/containment.js';
import type { BreakerState } from '../ha/resilience/breaker/options.js';

/** One breaker as published: plain JSON. */
export interface BreakerReport {
  /** The backend port (`compute`, `network`, …). */
  readonly port: string;
  readonly state: BreakerState;
  /** When the breaker entered this state (wall clock, ISO 8601); the process start for the first. */
  readonly since: string;
  /** Consecutive failures while closed. */
  readonly consecutiveFailures: number;
  /** Failures in the failure-rate window (0 without that rule). */
  readonly windowFailures: number;
  /** Failures since the process started. */
  readonly totalFailures: number;
  /** Calls refused since the process started. */
  readonly totalRejected: number;
  /** Until a call may be admitted, in ms; null when isolated by hand (no end). */
  readonly retryAfterMs: number | null;
  /** The latest latencies of calls the open breaker refused, ms (G6). */
  readonly failFastMs?: readonly number[];
  /** The latest latencies of other backends' successful calls while this one stalled, ms (G6). */
  readonly othersMs?: readonly number[];
}

/** The part of a breaker the report reads. */
interface ReportedBreaker {
  readonly onStateChange: { on(listener: (change: { to: BreakerState }) => void): () => void };
  snapshot(): {
    readonly state: BreakerState;
    readonly consecutiveFailures: number;
    readonly retryAfterMs: number;
    readonly window: { readonly failures: number };
    readonly totals: { readonly failures: number; readonly rejected: number };
  };
}

/** A report function over `breakers` (by port), and a stop that unsubscribes it. */
export function breakerReporter(
  breakers: Readonly<Record<string, ReportedBreaker>>,
  now: () => Date = () => new Date(),
  samples?: (port: string) => ContainmentSamples,
): { report(): BreakerReport[]; stop(): void } {
  // Fail-fast times are fractions of a millisecond: four decimals keep them.
  const fine = (values: readonly number[]) => values.map((v) => Math.round(v * 10_000) / 10_000);
  const started = now().toISOString();
  const since = new Map<string, string>();
  const unsubscribe = Object.entries(breakers).map(([port, breaker]) =>
    breaker.onStateChange.on(() => since.set(port, now().toISOString())),
  );
  return {
    report: () =>
      Object.entries(breakers).map(([port, breaker]) => {
        const s = breaker.snapshot();
        return {
          port,
          state: s.state,
          since: since.get(port) ?? started,
          consecutiveFailures: s.consecutiveFailures,
          windowFailures: s.window.failures,
          totalFailures: s.totals.failures,
          totalRejected: s.totals.rejected,
          retryAfterMs: Number.isFinite(s.retryAfterMs) ? Math.round(s.retryAfterMs) : null,
          ...(samples === undefined
            ? {}
            : { failFastMs: fine(samples(port).failFastMs), othersMs: fine(samples(port).othersMs) }),
        };
      }),
    stop: () => {
      for (const off of unsubscribe) off();
    },
  };
}
