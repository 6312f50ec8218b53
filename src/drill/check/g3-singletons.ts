// G3, singletons are single: from the leadership journal, per key, epochs strictly increase in
// the order terms were acquired and no two terms' [acquiredT, endedT) intervals overlap (a
// term still held runs to the end of the run). With the fenced writes collected, a write the
// database accepted under a term that had already ended is a write from a deposed term.

import type { TermRecord } from '../evidence.js';
import type { DrillRun } from '../run-dir.js';
import { type GuaranteeResult, verdict } from './result.js';

/** Judges G3. */
export function checkSingletons(run: DrillRun): GuaranteeResult {
  const violations: string[] = [];
  const byKey = new Map<string, TermRecord[]>();
  for (const term of run.evidence.terms) byKey.set(term.key, [...(byKey.get(term.key) ?? []), term]);
  let overlaps = 0;
  let epochRegressions = 0;
  for (const [key, terms] of byKey) {
    terms.sort((a, b) => a.acquiredT - b.acquiredT || a.epoch - b.epoch);
    for (let i = 1; i < terms.length; i++) {
      const [before, after] = [terms[i - 1]!, terms[i]!];
      if (after.epoch <= before.epoch) {
        epochRegressions++;
        violations.push(
          `${key}: epoch ${after.epoch} (${after.holder} at ${after.acquiredT} ms) follows epoch ${before.epoch} (${before.holder} at ${before.acquiredT} ms)`,
        );
      }
    }
    for (let i = 0; i < terms.length; i++) {
      const a = terms[i]!;
      const aEnd = a.endedT ?? Number.POSITIVE_INFINITY;
      for (let j = i + 1; j < terms.length; j++) {
        const b = terms[j]!;
        if (b.acquiredT >= aEnd) break;
        overlaps++;
        const until = Math.min(aEnd, b.endedT ?? Number.POSITIVE_INFINITY);
        violations.push(
          `${key}: epoch ${a.epoch} (${a.holder}) and epoch ${b.epoch} (${b.holder}) both held it from ${b.acquiredT} ms to ${Number.isFinite(until) ? `${until} ms` : 'the end'}`,
        );
      }
    }
  }
  const writes = run.evidence.fencedWrites;
  let deposedAccepted = 0;
  let fenceRefused = 0;
  for (const w of writes ?? []) {
    if (!w.accepted) {
      fenceRefused++;
      continue;
    }
    const term = byKey.get(w.key)?.find((t) => t.epoch === w.epoch);
    if (term?.endedT !== undefined && w.t >= term.endedT) {
      deposedAccepted++;
      violations.push(
        `${w.key}: a write under epoch ${w.epoch} (${term.holder}) was accepted at ${w.t} ms, after the term ended at ${term.endedT} ms`,
      );
    }
  }
  // A managed database with two writable primaries at once is a split brain of the failover.
  const databases = run.evidence.controllers?.databases;
  if (databases) {
    violations.push(...databases.examples);
    if (databases.twoWritable > 0)
      violations.push(`${databases.twoWritable} instants with two writable primaries of one database`);
  }
  return verdict(
    'at most one leader per key at a time; a deposed term cannot write',
    {
      keys: byKey.size,
      terms: run.evidence.terms.length,
      overlaps,
      epochRegressions,
      fencedWrites: writes === undefined ? null : writes.length,
      fenceRefused: writes === undefined ? null : fenceRefused,
      deposedAccepted: writes === undefined ? null : deposedAccepted,
      writableChanges: databases ? databases.changes : null,
      databasePromotions: databases ? databases.promotions : null,
      twoWritable: databases ? databases.twoWritable : null,
    },
    violations,
  );
}
