// After the settle: the singleton controllers' exactly-once figures, judged by their own audits
// on what the run left behind. Cron: every slot of every cron job fired once, none missing but
// what the skip policy allows while no leader ran (src/controllers/cron/audit.ts, with the
// simulator's deliveries). Accounting: every minute of every resource's life recorded once, no
// gaps (src/controllers/accounting/audit.ts). Managed databases: never two writable primaries
// (the simulator's writable history). Each audit waits, with a deadline, for its controller to
// catch up to the instant it judges up to. The verdicts go into the evidence as counts and
// examples; the checker (src/drill/check) judges them with the rest.

import { setTimeout as delay } from 'node:timers/promises';
import { accountingViolations } from '../../controllers/accounting/audit.js';
import { readAccounting } from '../../controllers/accounting/read-audit.js';
import { cronViolations } from '../../controllers/cron/audit.js';
import { readCronDowntime, readCronJobs, readCronSlots } from '../../controllers/cron/read-audit.js';
import type { Queryable } from '../../ha/db/database.js';
import { controlPlaneKeys } from '../../runtime/leader-keys.js';
import { withClient } from '../cluster/pg-client.js';
import type { ControllersRecord } from '../evidence.js';

/** Violations kept as examples, per audit. */
const EXAMPLES = 20;
/** How long each audit waits for its controller to catch up. */
const CATCH_UP_MS = 30_000;

/** Polls `done` every 250 ms until it holds or `timeoutMs` passes; resolves with whether it held. */
async function caughtUp(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await delay(250);
  }
}

async function dbNow(db: Queryable): Promise<number> {
  const res = await db.query<{ now: number }>(
    'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::double precision AS now',
  );
  return Number(res.rows[0]!.now);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The cron audit over every cron job of the run. */
async function cronRecord(db: Queryable, simUrl: string): Promise<ControllersRecord['cron']> {
  const until = Math.floor((await dbNow(db)) / 1000) * 1000;
  const settled = await caughtUp(async () => {
    const res = await db.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM stratus_cron_slots WHERE state = 'pending' AND slot <= to_timestamp($1 / 1000.0))
            + (SELECT count(*)::int FROM stratus_resources r
               WHERE r.kind = 'cron-jobs' AND r.deletion_requested_at IS NULL
                 AND NOT coalesce((r.spec->>'paused')::boolean, false)
                 AND NOT EXISTS (SELECT 1 FROM stratus_cron_cursors c
                                 WHERE c.cron_job_id = r.id AND c.decided_to >= to_timestamp($1 / 1000.0))) AS n`,
      [until],
    );
    return res.rows[0]!.n === 0;
  }, CATCH_UP_MS);
  const [stored, slots, downtime] = await Promise.all([
    readCronJobs(db),
    readCronSlots(db),
    readCronDowntime(db, controlPlaneKeys.cron.id),
  ]);
  // A paused or rescheduled job follows no one schedule: its slots are not judged.
  const jobs = stored.filter((j) => !j.changed);
  const judged = new Set(jobs.map((j) => j.id));
  const known = new Set(stored.map((j) => j.id));
  const response = await fetch(new URL('/audit?backend=webhook&op=deliver&outcome=created', simUrl), {
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 200) throw new Error(`GET the simulator's webhook audit: ${response.status}`);
  const deliveries = ((await response.json()) as { entries: Array<{ clientToken?: string }> }).entries
    .filter((e): e is { clientToken: string } => typeof e.clientToken === 'string')
    // Deliveries of the jobs not judged (their own rows are left out the same way).
    .filter((e) => !known.has(e.clientToken.split('/')[1] ?? '') || judged.has(e.clientToken.split('/')[1]!));
  const verdict = cronViolations(
    slots.filter((s) => judged.has(s.jobId) || !known.has(s.jobId)),
    jobs,
    { until, downtime },
    deliveries,
  );
  const examples = [
    ...verdict.gaps
      .slice(0, EXAMPLES)
      .map((v) => `cron gap: ${v.jobId} slot ${iso(v.slot ?? 0)} never fired`),
    ...verdict.doubles
      .slice(0, EXAMPLES)
      .map(
        (v) =>
          `cron double: ${v.jobId} slot ${iso(v.slot ?? 0)} ${v.type === 'double' ? `${v.of} ×${v.times}` : ''}`,
      ),
    ...verdict.unexpected
      .slice(0, EXAMPLES)
      .map(
        (v) =>
          `cron unexpected: ${v.jobId} ${v.slot === undefined ? '' : iso(v.slot)} ${v.type === 'unexpected' ? v.why : ''}`,
      ),
  ];
  return {
    jobs: jobs.length,
    unjudged: stored.length - jobs.length,
    untilMs: until,
    caughtUp: settled,
    owed: verdict.owed,
    excused: verdict.excused,
    recorded: slots.filter((s) => judged.has(s.jobId)).length,
    delivered: deliveries.length,
    gaps: verdict.gaps.length,
    doubles: verdict.doubles.length,
    unexpected: verdict.unexpected.length,
    examples,
  };
}

/** The accounting audit over every resource's life, minutes of `minuteMs`. */
async function accountingRecord(db: Queryable, minuteMs: number): Promise<ControllersRecord['accounting']> {
  const until = Math.floor((await dbNow(db)) / minuteMs) * minuteMs;
  const settled = await caughtUp(async () => {
    const res = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stratus_usage_lifetimes
       WHERE NOT done AND next_minute < to_timestamp($1 / 1000.0)`,
      [until],
    );
    return res.rows[0]!.n === 0;
  }, CATCH_UP_MS);
  const { rows, lifetimes } = await readAccounting(db);
  const verdict = accountingViolations(rows, lifetimes, { minuteMs, until });
  const examples = [...verdict.gaps, ...verdict.doubles, ...verdict.outside]
    .slice(0, EXAMPLES)
    .map((v) => `accounting ${v.type}: ${v.resourceId} minute ${iso(v.minute)}`);
  return {
    minuteMs,
    resources: lifetimes.length,
    untilMs: until,
    caughtUp: settled,
    owed: verdict.owed,
    recorded: rows.length,
    gaps: verdict.gaps.length,
    doubles: verdict.doubles.length,
    outside: verdict.outside.length,
    examples,
  };
}

/** The simulator's split-brain audit of managed databases. */
async function databasesRecord(simUrl: string): Promise<ControllersRecord['databases']> {
  const response = await fetch(new URL('/audit/databases', simUrl), { signal: AbortSignal.timeout(30_000) });
  if (response.status !== 200) throw new Error(`GET the simulator's database audit: ${response.status}`);
  const body = (await response.json()) as {
    history: Array<{ database: string; op: string; writable: boolean }>;
    twoWritable: Array<{ database: string; seq: number; nodes: string[] }>;
  };
  return {
    databases: new Set(body.history.map((h) => h.database)).size,
    changes: body.history.length,
    promotions: body.history.filter((h) => h.op === 'promote' && h.writable).length,
    twoWritable: body.twoWritable.length,
    examples: body.twoWritable
      .slice(0, EXAMPLES)
      .map((v) => `database ${v.database}: ${v.nodes.join(' and ')} writable at once (change ${v.seq})`),
  };
}

/** The three controllers' audits of a settled run. */
export async function collectControllers(
  databaseUrl: string,
  simUrl: string,
  minuteMs: number,
): Promise<ControllersRecord> {
  return withClient(databaseUrl, async (client) => {
    const db = client as unknown as Queryable;
    const cron = await cronRecord(db, simUrl);
    const accounting = await accountingRecord(db, minuteMs);
    const databases = await databasesRecord(simUrl);
    return { cron, accounting, databases };
  });
}
