// report.json: the checker's result, the gates' results and the run's meta, in one document a
// console page or a later comparison can read without the run's files.

import type { GateResult } from '../check/gates.js';
import type { CheckResult } from '../check/index.js';
import type { DrillRun } from '../run-dir.js';

/** The run, as the report names it. */
export interface RunMeta {
  readonly startedAt: string;
  readonly scenarios: readonly string[];
  readonly seed: number;
  readonly replicas: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly ratePerS: number;
  readonly loadEndT: number;
  readonly settledT: number;
}

/** The content of report.json. */
export interface DrillReport {
  readonly version: 1;
  readonly meta: RunMeta;
  readonly headline: string;
  readonly result: CheckResult;
  /** Absent when the report was made without a gates file. */
  readonly gates?: readonly GateResult[];
  /** True when every guarantee holds and no gate was missed. */
  readonly passed: boolean;
}

/** "2 faults injected, 0 lost, 0 duplicated, ...": the figures a reader looks for first. */
export function headline(result: CheckResult): string {
  const { G1, G2, G3, G5, G7 } = result.guarantees;
  const n = (v: number | null | undefined) => v ?? 0;
  const faults = result.totals.faults;
  return [
    `${faults} fault${faults === 1 ? '' : 's'} injected`,
    `${result.totals.requests} requests`,
    `${n(G1.figures.lost)} lost`,
    `${n(G1.figures.unconverged)} unconverged`,
    `${n(G2.figures.duplicated)} duplicated`,
    `${n(G2.figures.staleAccepted)} stale calls accepted`,
    `${n(G3.figures.overlaps)} overlapping terms`,
    `${n(G5.figures.clientFailures)} client failures`,
    `${n(G7.figures.crossTenant)} cross-tenant reads`,
  ].join(', ');
}

/** Assembles report.json's content. */
export function buildReport(run: DrillRun, result: CheckResult, gates?: readonly GateResult[]): DrillReport {
  const e = run.evidence;
  return {
    version: 1,
    meta: {
      startedAt: e.startedAt,
      scenarios: e.scenarios,
      seed: e.seed,
      replicas: e.replicas,
      durationMs: e.durationMs,
      ratePerS: e.ratePerS,
      loadEndT: e.loadEndT,
      settledT: e.settledT,
    },
    headline: headline(result),
    result,
    ...(gates ? { gates } : {}),
    passed: result.ok && !(gates ?? []).some((g) => g.status === 'missed'),
  };
}
