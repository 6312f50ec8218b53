// G5, the API stays up: no request fails once the client's retries (same Idempotency-Key)
// are spent, and the share of requests started inside a fault window that succeeded at the
// first try says how much of the fault the retries had to hide.

import type { DrillRun } from '../run-dir.js';
import type { RequestTrace } from './history-index.js';
import { type GuaranteeResult, verdict } from './result.js';
import { round } from './stats.js';

/** Judges G5. */
export function checkApiUp(run: DrillRun, requests: ReadonlyMap<number, RequestTrace>): GuaranteeResult {
  const violations: string[] = [];
  let clientFailures = 0;
  let duringFaults = 0;
  let firstTry = 0;
  let retried = 0;
  const inFault = (t: number) => run.faults.some((f) => t >= f.startT && t <= f.endT);
  for (const r of requests.values()) {
    const c = r.completion;
    if (c === undefined || r.invocation === undefined) continue;
    if (c.attempts > 1) retried++;
    if (c.outcome === 'fail') {
      clientFailures++;
      violations.push(
        `request ${r.req} (${r.invocation.method} ${r.invocation.path}, tenant ${r.invocation.tenant}) failed after ${c.attempts} attempts: ${c.error ?? `status ${c.status ?? 'none'}`}`,
      );
    }
    if (inFault(r.invocation.t)) {
      duringFaults++;
      if (c.outcome === 'ok' && c.attempts === 1) firstTry++;
    }
  }
  return verdict(
    'no client-visible failure after retries',
    {
      clientFailures,
      retried,
      requestsDuringFaults: duringFaults,
      firstTryDuringFaults: firstTry,
      firstTryRatio: duringFaults === 0 ? null : round(firstTry / duringFaults, 4),
    },
    violations,
  );
}
