// G2, no duplicate destructive action: from the simulator's append-only audit, a client token
// with more than one effect, or a call accepted with a fencing token older than one already
// seen for its resource (a call under a dead lease). The ledger's leases are checked too: a
// job's fencing tokens must grow with every lease, or a dead lease could pass for a live one.

import type { DrillRun } from '../run-dir.js';
import { type GuaranteeResult, verdict } from './result.js';

/** Judges G2. */
export function checkNoDuplicates(run: DrillRun): GuaranteeResult {
  const { audit, jobs } = run.evidence;
  const violations: string[] = [];
  for (const d of audit.duplicates) {
    violations.push(
      `${d.operation} had ${d.effects} effects for client token ${d.clientToken} (audit seq ${d.seqs.join(', ')})`,
    );
  }
  for (const s of audit.staleAcceptances) {
    violations.push(
      `audit seq ${s.seq}: ${s.resource} accepted fencing token ${s.fencingToken} after token ${s.newest} (a call under a dead lease)`,
    );
  }
  let leaseRegressions = 0;
  for (const job of jobs) {
    const leases = [...job.leases].sort((a, b) => a.startT - b.startT);
    for (let i = 1; i < leases.length; i++) {
      const [before, after] = [leases[i - 1]!, leases[i]!];
      if (after.token <= before.token) {
        leaseRegressions++;
        violations.push(
          `job ${job.key}: lease token ${after.token} (${after.owner} at ${after.startT} ms) does not exceed the earlier ${before.token} (${before.owner})`,
        );
      }
    }
  }
  // The singleton controllers' exactly-once: a cron slot or an accounted minute twice, or one
  // that should not exist.
  const controllers = run.evidence.controllers;
  if (controllers) {
    const c = controllers.cron;
    const a = controllers.accounting;
    for (const e of [...c.examples, ...a.examples])
      if (!e.startsWith('cron gap') && !e.startsWith('accounting gap')) violations.push(e);
    if (c.doubles + c.unexpected > 0)
      violations.push(`cron: ${c.doubles} slots fired twice, ${c.unexpected} fired that were not owed`);
    if (a.doubles + a.outside > 0)
      violations.push(
        `accounting: ${a.doubles} minutes recorded twice, ${a.outside} outside a resource's life`,
      );
  }
  return verdict(
    'at most one effect per client token, no call accepted under a dead lease',
    {
      auditCalls: audit.calls,
      duplicated: audit.duplicates.length,
      staleAccepted: audit.staleAcceptances.length,
      staleRefused: audit.staleRefusals,
      leaseRegressions,
      cronDoubles: controllers ? controllers.cron.doubles + controllers.cron.unexpected : null,
      accountingDoubles: controllers ? controllers.accounting.doubles + controllers.accounting.outside : null,
    },
    violations,
  );
}
