// Housekeeping (docs/controllers.md): the control plane's own tables pruned by their retention,
// in bounded batches, under a leader so that one replica does it — expired idempotency records,
// events, finished jobs (their outbox and ledger rows and their operations) and ended terms of
// the leadership journal — and instances' old log lines in the compute backend. Every rule that keeps a row lives in the statements of ./sql; audit.ts
// judges a pass by the same rules, independently, from what was there before and after.

import { DEFAULT_EVENT_RETENTION_MS, pruneEvents } from '../../control/events/store.js';
import type { ComputePort } from '../../core/ports/compute.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';

const SQL = {
  jobs: loadText(new URL('./sql/prune-jobs.sql', import.meta.url)),
  idempotency: loadText(new URL('./sql/prune-idempotency.sql', import.meta.url)),
  journal: loadText(new URL('./sql/prune-journal.sql', import.meta.url)),
};

const DAY = 86_400_000;
/** Finished jobs are kept 7 days: far past any retry, redelivery or client's wait. */
export const DEFAULT_JOB_RETENTION_MS = 7 * DAY;
/** Instances' log lines are kept 7 days in the compute backend. */
export const DEFAULT_LOG_RETENTION_MS = 7 * DAY;
/** Ended terms of the leadership journal are kept 30 days. */
export const DEFAULT_JOURNAL_RETENTION_MS = 30 * DAY;
/** The default wait between two passes (5 minutes). */
export const DEFAULT_HOUSEKEEPING_RESYNC_MS = 300_000;

/** How long each table keeps what it no longer needs. */
export interface Retention {
  /** Events; default 7 days. */
  readonly eventsMs?: number;
  /** Finished jobs; default {@link DEFAULT_JOB_RETENTION_MS}. */
  readonly jobsMs?: number;
  /** Ended leadership terms; default {@link DEFAULT_JOURNAL_RETENTION_MS}. */
  readonly journalMs?: number;
  /** Instances' log lines in the compute backend; default {@link DEFAULT_LOG_RETENTION_MS}. */
  readonly logsMs?: number;
}

/** What one pass removed, by table. */
export interface Removed {
  readonly idempotency: number;
  readonly events: number;
  readonly jobs: number;
  readonly ledger: number;
  readonly operations: number;
  readonly journal: number;
  /** Instance log lines the compute backend dropped (0 without a compute port). */
  readonly logs: number;
}

/** Options of {@link housekeepingController}. */
export interface HousekeepingOptions {
  readonly leaderKey: LeaderKey;
  readonly retention?: Retention;
  /** Where instance logs are pruned (behind its resilience policies); none: they are not. */
  readonly compute?: ComputePort;
  /** Rows per table per pass; default 5,000. A full batch runs the next pass at once. */
  readonly batch?: number;
  /** Default {@link DEFAULT_HOUSEKEEPING_RESYNC_MS}. */
  readonly resyncMs?: number;
  /** Told what every pass removed (logs, tests). */
  readonly onPass?: (removed: Removed) => void;
}

export function housekeepingController(options: HousekeepingOptions): ControllerDefinition {
  const batch = options.batch ?? 5_000;
  const eventsMs = options.retention?.eventsMs ?? DEFAULT_EVENT_RETENTION_MS;
  const jobsMs = options.retention?.jobsMs ?? DEFAULT_JOB_RETENTION_MS;
  const journalMs = options.retention?.journalMs ?? DEFAULT_JOURNAL_RETENTION_MS;
  const logsMs = options.retention?.logsMs ?? DEFAULT_LOG_RETENTION_MS;
  // Where the walk over the outbox stands: it starts over from the oldest row once it reaches
  // rows younger than the retention or the end. A new leader starts from the oldest.
  let jobsCursor = 0;
  return defineController({
    name: 'housekeeping',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? DEFAULT_HOUSEKEEPING_RESYNC_MS,
    // Age, not events, makes rows due.
    wakeOnKinds: [],
    async pass(ctx) {
      const now = ctx.now();
      const idempotency = await ctx.fenced(async (tx) =>
        Number((await tx.query(SQL.idempotency, [now, batch])).rows[0]?.removed ?? 0),
      );
      const events = await ctx.fenced(
        async (tx) => (await pruneEvents(tx, eventsMs, { limit: batch, now })).removed,
      );
      const jobs = await ctx.fenced(
        async (tx) =>
          (await tx.query(SQL.jobs, [now, jobsMs, jobsCursor, batch])).rows[0] as Record<string, unknown>,
      );
      const walkOn = Number(jobs.seen) === batch && jobs.reached_recent !== true;
      jobsCursor = walkOn ? Number(jobs.last_id) : 0;
      const journal = await ctx.fenced(async (tx) =>
        Number((await tx.query(SQL.journal, [now, journalMs, batch])).rows[0]?.removed ?? 0),
      );
      // Instance logs live in the compute backend: one call drops the old lines of all of them,
      // fenced by the term (a deposed leader's late call is refused) and once per minute of
      // cutoff (a repeat in the same minute replays the first count). A backend that fails
      // leaves the tables' pruning done and fails the pass, which is tried again.
      let logs = 0;
      let failed: unknown;
      if (options.compute) {
        // The cutoff, to its minute: a token names one call, so every pass of a minute makes
        // the same one (an exact cutoff under a token per minute was refused as a token reused
        // with other parameters, and failed the pass).
        const minute = Math.floor((now - logsMs) / 60_000);
        try {
          logs = (
            await options.compute.pruneLogs(minute * 60_000, {
              clientToken: `housekeeping/logs/${minute}`,
              fencingToken: ctx.epoch,
              signal: ctx.signal,
            })
          ).removed;
        } catch (err) {
          failed = err;
        }
      }
      const removed: Removed = {
        idempotency,
        events,
        jobs: Number(jobs.jobs),
        ledger: Number(jobs.ledger),
        operations: Number(jobs.operations),
        journal,
        logs,
      };
      options.onPass?.(removed);
      if (failed !== undefined) throw failed;
      return { more: walkOn || idempotency === batch || events === batch || journal === batch };
    },
  });
}
