// The drill checker: a pure function of a run's files that judges G1-G7 and counts the run.
// Each guarantee lives in its own file; the report and the gates read only the result.

import type { DrillRun } from '../run-dir.js';
import { checkNoLostWork } from './g1-no-lost-work.js';
import { checkNoDuplicates } from './g2-no-duplicates.js';
import { checkSingletons } from './g3-singletons.js';
import { checkRecovery } from './g4-recovery.js';
import { checkApiUp } from './g5-api-up.js';
import { checkContainment } from './g6-containment.js';
import { checkTenants } from './g7-tenants.js';
import { indexHistory } from './history-index.js';
import { type CheckResult, GUARANTEES, type RunTotals } from './result.js';

export type { CheckResult, Figure, GuaranteeId, GuaranteeResult, Row, RunTotals } from './result.js';
export { GUARANTEES } from './result.js';

/** Judges every guarantee on `run`. */
export function check(run: DrillRun): CheckResult {
  const requests = indexHistory(run.history);
  const guarantees = {
    G1: checkNoLostWork(run, requests),
    G2: checkNoDuplicates(run),
    G3: checkSingletons(run),
    G4: checkRecovery(run),
    G5: checkApiUp(run, requests),
    G6: checkContainment(run),
    G7: checkTenants(requests),
  };
  return { ok: GUARANTEES.every((g) => guarantees[g].ok), guarantees, totals: totalsOf(run) };
}

function totalsOf(run: DrillRun): RunTotals {
  const faultsByAction: Record<string, number> = {};
  for (const f of run.faults) faultsByAction[f.action] = (faultsByAction[f.action] ?? 0) + 1;
  let requests = 0;
  let attempts = 0;
  let retries = 0;
  let completed = 0;
  for (const e of run.history) {
    if (e.type === 'invoke') requests++;
    else if (e.type === 'attempt') {
      attempts++;
      if (e.attempt > 1) retries++;
    } else completed++;
  }
  return {
    requests,
    attempts,
    retries,
    completed,
    faults: run.faults.length,
    faultsByAction,
    resources: run.evidence.resources.length,
    terms: run.evidence.terms.length,
    jobs: run.evidence.jobs.length,
    auditCalls: run.evidence.audit.calls,
  };
}
