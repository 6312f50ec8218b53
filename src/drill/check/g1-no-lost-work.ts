// G1, no lost work: every request the client started ended (answered for good or given up),
// and every resource an acknowledged request touched reached a terminal state by the time
// the cluster was declared settled: Ready or Failed at its generation, or gone after a
// delete, and backed by the simulator's truth. The settle time after the last fault's end
// is the figure "within T".

import type { DrillRun } from '../run-dir.js';
import type { RequestTrace } from './history-index.js';
import { type GuaranteeResult, verdict } from './result.js';
import { maxOf } from './stats.js';

const MUTATING = new Set(['create', 'update', 'action', 'delete']);
const TERMINAL = new Set(['Ready', 'Failed']);

/** Judges G1. */
export function checkNoLostWork(run: DrillRun, requests: ReadonlyMap<number, RequestTrace>): GuaranteeResult {
  const violations: string[] = [];
  let invoked = 0;
  let lost = 0;
  let acknowledged = 0;
  // Resources an acknowledged request touched, and the ones an acknowledged delete removed.
  const touched = new Map<string, number>();
  const deleted = new Map<string, number>();
  // Resources any delete was sent for, acknowledged or not: their absence is no loss.
  const deleteSent = new Set<string>();
  for (const r of requests.values()) {
    if (r.invocation?.op === 'delete' && r.invocation.resourceId !== undefined) {
      deleteSent.add(r.invocation.resourceId);
    }
    if (r.invocation === undefined) {
      violations.push(`request ${r.req} has attempts or a completion but was never invoked`);
      continue;
    }
    invoked++;
    if (r.completion === undefined) {
      lost++;
      const about = r.invocation.resourceId ? ` on ${r.invocation.resourceId}` : '';
      violations.push(
        `request ${r.req} (${r.invocation.op} ${r.invocation.kind}${about}, tenant ${r.invocation.tenant}) was invoked at ${r.invocation.t} ms and never completed`,
      );
      continue;
    }
    if (r.completion.outcome !== 'ok') continue;
    acknowledged++;
    if (!MUTATING.has(r.invocation.op)) continue;
    const id = r.completion.resourceId ?? r.invocation.resourceId;
    if (id === undefined) continue;
    touched.set(id, r.req);
    if (r.invocation.op === 'delete') deleted.set(id, r.req);
  }

  const { resources, settledT } = run.evidence;
  const byId = new Map(resources.map((res) => [res.id, res]));
  let unconverged = 0;
  let notInTruth = 0;
  let mismatched = 0;
  let failed = 0;
  for (const res of resources) {
    const what = `${res.kind} ${res.id} (tenant ${res.tenant})`;
    const deleteReq = deleted.get(res.id);
    if (deleteReq !== undefined) {
      unconverged++;
      violations.push(
        `${what} is still listed (phase ${res.phase}${res.failure ? `, ${res.failure}` : ''}) at ${settledT} ms although request ${deleteReq} deleted it`,
      );
      continue;
    }
    // A Failed resource's last attempt was of the generation its Ready condition names: it is
    // terminal at that generation, though no generation after the last applied one was applied.
    const observed =
      res.phase === 'Failed'
        ? Math.max(res.observedGeneration ?? 0, res.readyGeneration ?? 0)
        : (res.observedGeneration ?? 0);
    if (res.deleting || !TERMINAL.has(res.phase) || observed < res.generation) {
      unconverged++;
      violations.push(
        `${what} is not terminal at ${settledT} ms: phase ${res.phase}${res.deleting ? ', deleting' : ''}, generation ${res.generation}, observed ${observed}`,
      );
      continue;
    }
    if (res.phase === 'Failed') failed++;
    if (res.inTruth === false) {
      notInTruth++;
      violations.push(
        `${what} is ${res.phase} but the simulator has no ${res.backendId ?? 'backend object'} for it`,
      );
    }
    if (res.mismatch !== undefined) {
      mismatched++;
      violations.push(`${what}: the API's status and the simulator's truth disagree: ${res.mismatch}`);
    }
  }
  // An acknowledged change whose resource vanished without a delete: none sent for it, and
  // none recorded by a cascade from a delete the client sent with ?cascade=true.
  const cascadeSent = [...requests.values()].some(
    (r) => r.invocation?.op === 'delete' && r.invocation.path.includes('cascade=true'),
  );
  const cascaded = new Set(cascadeSent ? (run.evidence.deletionRequested ?? []) : []);
  let vanished = 0;
  for (const [id, req] of touched) {
    if (byId.has(id) || deleteSent.has(id) || cascaded.has(id)) continue;
    const invocation = requests.get(req)?.invocation;
    vanished++;
    violations.push(
      `${invocation?.kind ?? 'resource'} ${id} was acknowledged by request ${req} and is gone at ${settledT} ms with no delete of it`,
    );
  }

  // The singleton controllers' work owed by the clock: cron slots and accounted minutes.
  const controllers = run.evidence.controllers;
  if (controllers) {
    for (const e of controllers.cron.examples) if (e.startsWith('cron gap')) violations.push(e);
    if (controllers.cron.gaps > 0)
      violations.push(
        `${controllers.cron.gaps} cron slots owed and never fired (${controllers.cron.owed} owed)`,
      );
    for (const e of controllers.accounting.examples) if (e.startsWith('accounting gap')) violations.push(e);
    if (controllers.accounting.gaps > 0)
      violations.push(
        `${controllers.accounting.gaps} resource minutes never recorded (${controllers.accounting.owed} owed)`,
      );
  }

  const lastFaultEnd = run.faults.length === 0 ? null : maxOf(run.faults.map((f) => f.endT));
  return verdict(
    'every acknowledged request reaches a terminal state',
    {
      invoked,
      completed: invoked - lost,
      lost,
      acknowledged,
      resources: resources.length,
      unconverged,
      vanished,
      notInTruth,
      mismatched,
      failedResources: failed,
      cronSlotsOwed: controllers ? controllers.cron.owed : null,
      cronGaps: controllers ? controllers.cron.gaps : null,
      accountedMinutesOwed: controllers ? controllers.accounting.owed : null,
      accountingGaps: controllers ? controllers.accounting.gaps : null,
      settledAfterLastFaultMs: lastFaultEnd === null ? null : Math.max(0, settledT - lastFaultEnd),
    },
    violations,
  );
}
