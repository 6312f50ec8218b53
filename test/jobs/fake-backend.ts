// The fake backend of the job tests, in the test's own database: two calls in the manner of a
// driver (observe, then create), each appended to an audit with its client token and its
// fencing token, and each checked against the ledger at call time: a call whose token is not
// the job's live lease is refused when fencing is on. The backend does NOT deduplicate effects
// by client token: "at most one effect per job" is then the kernel's guarantee (leases, fencing,
// observe before create), and the audit can show it broken.
import type { Database, Queryable } from '../../src/ha/db/database.js';
import { loadText } from '../../src/ha/db/sql-loader.js';
import type { JobContext } from '../../src/ha/worker/types.js';

const sql = {
  table: loadText(new URL('./sql/audit-table.sql', import.meta.url)),
  observe: loadText(new URL('./sql/observe.sql', import.meta.url)),
  create: loadText(new URL('./sql/create.sql', import.meta.url)),
  report: loadText(new URL('./sql/audit-report.sql', import.meta.url)),
  effectByOther: loadText(new URL('./sql/effect-by-other-lease.sql', import.meta.url)),
};

/** A call the backend refused because its fencing token was not the job's live lease. */
export class FencedCallError extends Error {
  readonly code = 'FAKE_BACKEND_FENCED';
  constructor(op: string, clientToken: string, fencingToken: number) {
    super(`${op} ${clientToken}: fencing token ${fencingToken} is not the live lease`);
    this.name = 'FencedCallError';
  }
}

export interface FakeBackend {
  /** Whether the effect of this job's client token exists. */
  observe(ctx: JobContext): Promise<boolean>;
  /** Makes the effect: one more effect for every accepted call. */
  create(ctx: JobContext): Promise<void>;
  /** For the test's zombie handler (not a backend call, not audited): another lease made the effect. */
  effectByOtherLease(ctx: JobContext): Promise<boolean>;
}

/** Creates the audit table. */
export async function createFakeBackendSchema(db: Queryable): Promise<void> {
  await db.query(sql.table);
}

/**
 * The backend as one worker process calls it. `fencing: false` is the switch that shows the
 * audit checks can fail: calls under a dead lease are then accepted (and still audited as such).
 */
export function createFakeBackend(db: Queryable, nodeId: string, fencing: boolean): FakeBackend {
  const params = (ctx: JobContext) => [ctx.clientToken, ctx.token, nodeId, ctx.attempt, fencing];
  return {
    async observe(ctx) {
      const res = await db.query<{ accepted: boolean; found: boolean }>(sql.observe, params(ctx));
      const row = res.rows[0]!;
      if (!row.accepted) throw new FencedCallError('observe', ctx.clientToken, ctx.token);
      return row.found;
    },
    async create(ctx) {
      const res = await db.query<{ accepted: boolean }>(sql.create, params(ctx));
      if (!res.rows[0]!.accepted) throw new FencedCallError('create', ctx.clientToken, ctx.token);
    },
    async effectByOtherLease(ctx) {
      const res = await db.query<{ found: boolean }>(sql.effectByOther, [ctx.clientToken, ctx.token]);
      return res.rows[0]!.found;
    },
  };
}

/** What the audit says, counted from its rows alone. */
export interface AuditReport {
  calls: number;
  /** Accepted creates. */
  effects: number;
  /** Calls whose fencing token was not the live lease, refused or not. */
  deadLeaseCalls: number;
  /** Of those, the ones the backend acted on (only possible with fencing off). */
  deadLeaseAccepted: number;
  keysWithTwoEffects: number;
  /** Accepted calls of one client token whose fencing token went down. */
  tokenRegressions: number;
  /** The broken guarantees, in words; empty when the audit is clean. */
  violations: string[];
}

/** Reads the audit and names every violation of "no call acted on under a dead lease, one effect per job". */
export async function auditReport(db: Database): Promise<AuditReport> {
  const res = await db.query<{
    calls: number;
    effects: number;
    dead_lease_calls: number;
    dead_lease_accepted: number;
    keys_with_two_effects: number;
    token_regressions: number;
  }>(sql.report);
  const r = res.rows[0]!;
  const report = {
    calls: r.calls,
    effects: r.effects,
    deadLeaseCalls: r.dead_lease_calls,
    deadLeaseAccepted: r.dead_lease_accepted,
    keysWithTwoEffects: r.keys_with_two_effects,
    tokenRegressions: r.token_regressions,
  };
  const violations: string[] = [];
  if (report.deadLeaseAccepted > 0)
    violations.push(`${report.deadLeaseAccepted} calls acted on under a dead lease`);
  if (report.keysWithTwoEffects > 0)
    violations.push(`${report.keysWithTwoEffects} jobs with more than one effect`);
  if (report.tokenRegressions > 0) violations.push(`${report.tokenRegressions} fencing tokens went down`);
  return { ...report, violations };
}
