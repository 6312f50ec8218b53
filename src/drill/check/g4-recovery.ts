// G4, fast recovery, per fault. For a fault on a leader: the time from the fault's start until
// the key has a live leader again, a term acquired since that acts: at once, or, when granted to a
// node stopped by a fault then (paused or partitioned), from the end of that fault if the term
// still holds the key then (a term that ends while its node is stopped never acted). A leader that lived through its fault and kept its term (a pause shorter than the
// session's timeouts) had no failover: counted as `leaderKept`, not as a time. For a fault on a
// node that held job leases: the time from the fault's start to the first progress of each job
// it held then, a later lease (by anyone) or the job finishing (the resumed holder finishing
// it). A leader fault followed by neither, or a held job that never progressed, is a
// violation; how fast is fast enough is for the gates (p50/p99/max overall and per action).

import type { FaultRecord, JobRecord } from '../evidence.js';
import type { DrillRun } from '../run-dir.js';
import { type Figure, type GuaranteeResult, type Row, verdict } from './result.js';
import { spread } from './stats.js';

/** Faults that stop a node from working its leases. */
const NODE_FAULTS = new Set(['kill', 'pause', 'restart', 'blackhole-db', 'drop-db-sessions']);

/** True when the fault's resolved target names `node` (`worker-2`, `worker-2 (pid 4711)`). */
function faultHits(fault: FaultRecord, node: string): boolean {
  return fault.resolved === node || fault.resolved.split(/[\s(),;=]+/).includes(node);
}

/** Faults during which their node is alive but cannot act (a lease or a term it holds is idle). */
const STOPPING = new Set(['pause', 'blackhole-db', 'blackhole-redis']);

/**
 * When a term begins to act: at once, or, when it was granted to a node stopped by a fault then
 * (paused, or cut from PostgreSQL or Redis), once every such fault on that node ended. Undefined
 * when the term ended first: it never acted.
 */
function actingFrom(
  faults: readonly FaultRecord[],
  term: { holder: string; acquiredT: number; endedT?: number | undefined },
): number | undefined {
  let t = term.acquiredT;
  for (;;) {
    const covering = faults.filter(
      (f) => STOPPING.has(f.action) && f.startT <= t && t < f.endT && faultHits(f, term.holder),
    );
    if (covering.length === 0) break;
    t = Math.max(...covering.map((f) => f.endT));
  }
  return t < (term.endedT ?? Number.POSITIVE_INFINITY) ? t : undefined;
}

/**
 * How long after its last sample a lease may still have been running: the sampler's interval
 * (250 ms) and as much again for a slow sample.
 */
const SAMPLED_SLACK_MS = 500;

/**
 * The jobs `node` held when `t` came: its lease is the latest one, the job was not done, and
 * the lease was still running then, as far as the samples tell (a job whose attempt failed
 * before `t` waits out its retry's backoff held by nobody: its next lease is no resume).
 */
function heldAt(jobs: readonly JobRecord[], node: string, t: number): JobRecord[] {
  return jobs.filter((job) => {
    const before = job.leases.filter((l) => l.startT <= t);
    if (before.length === 0) return false;
    const latest = before.reduce((a, b) => (b.startT >= a.startT ? b : a));
    const running = latest.lastSeenT === undefined || latest.lastSeenT + SAMPLED_SLACK_MS >= t;
    return latest.owner === node && running && (job.finishedT === undefined || job.finishedT > t);
  });
}

function addTo(map: Map<string, number[]>, key: string, value: number): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

/** Judges G4. */
export function checkRecovery(run: DrillRun): GuaranteeResult {
  const { terms, jobs } = run.evidence;
  const violations: string[] = [];
  const rows: Row[] = [];
  const failover = new Map<string, number[]>();
  const resume = new Map<string, number[]>();
  const owners = [...new Set(jobs.flatMap((j) => j.leases.map((l) => l.owner)))];
  let leaderKept = 0;
  for (const [i, fault] of run.faults.entries()) {
    const name = `fault ${i + 1} (${fault.action} ${fault.target} → ${fault.resolved} at ${fault.startT} ms)`;
    if (fault.leaderKey !== undefined) {
      const ofKey = terms.filter((t) => t.key === fault.leaderKey);
      const node = fault.resolved.split(/[\s(]/)[0] ?? fault.resolved;
      const held = ofKey.find(
        (t) => t.holder === node && t.acquiredT <= fault.startT && (t.endedT ?? Infinity) > fault.startT,
      );
      // The first term since the fault to act: one granted to a stopped node acts once it is
      // no longer stopped, if it still holds the key then.
      const next = ofKey
        .filter((t) => t.acquiredT >= fault.startT)
        .map((t) => ({ term: t, actsT: actingFrom(run.faults, t) }))
        .filter((c): c is { term: (typeof ofKey)[number]; actsT: number } => c.actsT !== undefined)
        .sort((a, b) => a.actsT - b.actsT)[0];
      const kept =
        held !== undefined &&
        STOPPING.has(fault.action) &&
        (held.endedT ?? Infinity) >= fault.endT &&
        (next === undefined || next.actsT >= (held.endedT ?? Infinity));
      if (kept) {
        leaderKept++;
        rows.push({ fault: i + 1, action: fault.action, on: fault.leaderKey, recovery: 'kept', ms: 0 });
      } else if (next === undefined) {
        violations.push(`${name}: no live leader of ${fault.leaderKey} followed`);
      } else {
        const ms = next.actsT - fault.startT;
        addTo(failover, fault.action, ms);
        rows.push({ fault: i + 1, action: fault.action, on: fault.leaderKey, recovery: 'leader', ms });
      }
    }
    if (!NODE_FAULTS.has(fault.action)) continue;
    for (const node of owners.filter((o) => faultHits(fault, o))) {
      for (const job of heldAt(jobs, node, fault.startT)) {
        const next = job.leases.filter((l) => l.startT > fault.startT).sort((a, b) => a.startT - b.startT)[0];
        // First progress: a new lease, or the job finished (a paused holder may wake and finish
        // it itself: nothing was lost).
        const progressT = Math.min(next?.startT ?? Infinity, job.finishedT ?? Infinity);
        if (progressT === Infinity) {
          violations.push(`${name}: job ${job.key} held by ${node} was never leased again nor finished`);
          continue;
        }
        const ms = Math.max(0, progressT - fault.startT);
        addTo(resume, fault.action, ms);
        rows.push({ fault: i + 1, action: fault.action, on: job.key, recovery: 'job', ms });
      }
    }
  }
  const figures: Record<string, Figure> = {
    leaderFaults: run.faults.filter((f) => f.leaderKey !== undefined).length,
    failovers: [...failover.values()].flat().length,
    leaderKept,
    jobsResumed: [...resume.values()].flat().length,
    ...spread('failover', [...failover.values()].flat()),
    ...spread('resume', [...resume.values()].flat()),
  };
  for (const [action, values] of failover) {
    for (const [k, v] of Object.entries(spread('failover', values))) figures[`${k}.${action}`] = v;
  }
  for (const [action, values] of resume) {
    for (const [k, v] of Object.entries(spread('resume', values))) figures[`${k}.${action}`] = v;
  }
  return verdict('a new leader and resumed jobs follow every fault', figures, violations, rows);
}
