// Dead letters as an operator sees them: the jobs the ledger holds failed for good, with the
// envelope they were enqueued with, and their redrive: back into the outbox with fresh attempts,
// in the caller's transaction, at most once per dead letter.

import type { Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { encodeEnvelope, type JobEnvelope, parseEnvelope } from '../job/envelope.js';

const sql = (name: string) => loadText(new URL(`./sql/${name}.sql`, import.meta.url));
const SQL = {
  list: sql('list-dead-letters'),
  lockRow: sql('lock-outbox-row'),
  reset: sql('reset-failed-job'),
  redispatch: sql('redispatch'),
  state: sql('ledger-state'),
  backlog: sql('backlog'),
};

/** One job failed for good. */
export interface DeadJob {
  readonly jobKey: string;
  /** The job as enqueued; undefined when the job did not come through the outbox. */
  readonly job: JobEnvelope | undefined;
  /** Leases the job took before it was given up. */
  readonly attempts: number;
  readonly lastError: string | null;
  /** When the outbox row was written (the job was first enqueued). */
  readonly enqueuedAt: Date | null;
  /** When its first lease was taken. */
  readonly firstAttemptAt: Date;
  /** When it was recorded failed for good. */
  readonly failedAt: Date | null;
  /** Whether the failure was reported (the dead-letter hook ran). */
  readonly reported: boolean;
  /** Earlier redrives of this job. */
  readonly redrives: number;
}

/** The filter and page of a listing of dead letters. */
export interface DeadJobQuery {
  /** The last job key of the previous page. */
  readonly after?: string;
  /** Only jobs of this job kind. */
  readonly kind?: string;
  readonly limit: number;
}

type Raw = Record<string, unknown>;
const dateOrNull = (v: unknown): Date | null => (v == null ? null : new Date(v as string | Date));

/** Dead letters in job key order. */
export async function listDeadJobs(q: Queryable, query: DeadJobQuery): Promise<DeadJob[]> {
  const res = await q.query<Raw>(SQL.list, [query.after ?? null, query.kind ?? null, query.limit]);
  return res.rows.map((r) => {
    const parsed = typeof r.body === 'string' ? parseEnvelope(r.body) : undefined;
    return {
      jobKey: r.job_key as string,
      job: parsed?.ok ? parsed.job : undefined,
      attempts: Number(r.attempt),
      lastError: (r.last_error as string | null) ?? null,
      enqueuedAt: dateOrNull(r.enqueued_at),
      firstAttemptAt: new Date(r.created_at as string | Date),
      failedAt: dateOrNull(r.finished_at),
      reported: r.reported_at != null,
      redrives: Number(r.redrives),
    };
  });
}

/** Why a redrive was refused. */
export type RedriveRefusal =
  /** No ledger row: the job never started, or the key names no job. */
  | { readonly kind: 'unknown' }
  /** The job is not failed (a redrive is pending or running, or it completed). */
  | { readonly kind: 'not-failed'; readonly state: string }
  /** Failed, but never enqueued through the outbox: there is no body to enqueue again. */
  | { readonly kind: 'no-outbox-row' };

/** A redrive that took place. */
export interface Redriven {
  readonly redriven: true;
  /** Its number in the redrive record. */
  readonly id: number;
  readonly at: Date;
  readonly job: JobEnvelope;
  /** Attempts and last error of the dead letter. */
  readonly previous: { readonly attempts: number; readonly lastError: string | null };
}

export type RedriveResult = Redriven | { readonly redriven: false; readonly refusal: RedriveRefusal };

/**
 * Redrives one dead letter inside the caller's transaction `tx`: the ledger row is reset to due
 * with no attempts counted, the outbox row waits for the relay again (with a fresh enqueue time),
 * and the redrive is recorded; nothing of it is visible before `tx` commits. The job keeps its
 * key, so backends see the same client token and the ledger still runs it at most once at a
 * time. A second redrive of the same dead letter finds the job no longer failed and is refused.
 */
export async function redriveDeadJob(
  tx: Queryable,
  jobKey: string,
  now = Date.now(),
): Promise<RedriveResult> {
  const row = (await tx.query<{ id: string; body: string }>(SQL.lockRow, [jobKey])).rows[0];
  const reset = row && (await tx.query<Raw>(SQL.reset, [jobKey])).rows[0];
  if (!row || !reset) {
    const state = (await tx.query<{ state: string }>(SQL.state, [jobKey])).rows[0]?.state;
    if (state === undefined) return { redriven: false, refusal: { kind: 'unknown' } };
    if (state !== 'failed') return { redriven: false, refusal: { kind: 'not-failed', state } };
    return { redriven: false, refusal: { kind: 'no-outbox-row' } };
  }
  const parsed = parseEnvelope(row.body);
  // The body was written by encodeEnvelope; a foreign one would have been dead-lettered unparsed.
  if (!parsed.ok) throw new Error(`outbox row of ${jobKey} is no job: ${parsed.reason}`);
  const { v: _, enqueuedAt: __, ...job } = parsed.job;
  await tx.query(SQL.redispatch, [row.id, encodeEnvelope(job, now)]);
  return {
    redriven: true,
    id: Number(reset.id),
    at: new Date(reset.redriven_at as string | Date),
    job: parsed.job,
    previous: { attempts: Number(reset.attempts), lastError: (reset.last_error as string | null) ?? null },
  };
}

/** What the relay still has to move: undispatched outbox rows and the oldest one's age. */
export async function readOutboxBacklog(q: Queryable): Promise<{ waiting: number; oldestMs: number }> {
  const r = (await q.query<Raw>(SQL.backlog)).rows[0];
  return { waiting: Number(r?.waiting ?? 0), oldestMs: Number(r?.oldest_ms ?? 0) };
}
