// G6, backend faults stay contained: how fast an open breaker refused calls, and how slow the
// calls to the other backends were while one stalled, both sampled by the processes that made
// the calls (src/backends/containment.ts) and read from /v1/system/breakers. Both are timings,
// so the gates judge them; the checker's own violation is a breaker that refused calls yet
// reported no fail-fast time, which would let a gate pass on nothing.

import type { DrillRun } from '../run-dir.js';
import { type GuaranteeResult, type Row, verdict } from './result.js';
import { percentile, round, spread } from './stats.js';

const BACKEND_FAULTS = new Set(['backend-outage', 'backend-slow', 'backend-hang']);

/** Judges G6. */
export function checkContainment(run: DrillRun): GuaranteeResult {
  const { breakers } = run.evidence;
  const violations: string[] = [];
  const rows: Row[] = breakers.map((b) => ({
    node: b.node,
    breaker: b.breaker,
    failFasts: b.failFastMs.length,
    failFastP99Ms: percentile(b.failFastMs, 99) ?? '-',
    othersP99Ms: percentile(b.othersMs, 99) ?? '-',
  }));
  const backendFaults = run.faults.filter((f) => BACKEND_FAULTS.has(f.action)).length;
  const failFast = breakers.flatMap((b) => b.failFastMs);
  const others = breakers.flatMap((b) => b.othersMs);
  for (const b of breakers) {
    if (b.failFastMs.length === 0 && (b.totalRejected ?? 0) > 0) {
      violations.push(
        `breaker ${b.breaker} on ${b.node}: refused ${b.totalRejected} calls but reported no fail-fast time`,
      );
    }
  }
  // Fail-fast times are fractions of a millisecond (the target is 0.05 ms): keep 4 decimals.
  const fine = (values: Record<string, number | null>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === null ? null : round(v, 4)]));
  const figures = { backendFaults, breakers: breakers.length, ...fine(spread('failFast', failFast)) };
  return verdict(
    'an open breaker fails fast; a stalled backend slows no other',
    { ...figures, ...fine(spread('others', others)) },
    violations,
    rows,
  );
}
