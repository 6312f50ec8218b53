import type { Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { encodeEnvelope, type NewJob } from '../job/envelope.js';

const enqueueSql = loadText(new URL('./sql/enqueue.sql', import.meta.url));

/** The channel relays LISTEN on; the enqueue statement NOTIFYs it. */
export const OUTBOX_CHANNEL = 'stratus_outbox';

/**
 * Writes a job into the outbox inside the caller's transaction `tx`: the job exists exactly
 * when the caller's change commits, so no job is lost between a database write and an
 * enqueue. Returns false when a job with this key was already enqueued.
 */
export async function enqueue(tx: Queryable, job: NewJob): Promise<boolean> {
  return (await enqueueBatch(tx, [job])) === 1;
}

/** `enqueue` for many jobs in one statement; returns how many were new. */
export async function enqueueBatch(tx: Queryable, jobs: readonly NewJob[]): Promise<number> {
  if (jobs.length === 0) return 0;
  const now = Date.now();
  const res = await tx.query<{ inserted: number }>(enqueueSql, [
    jobs.map((j) => j.key),
    jobs.map((j) => encodeEnvelope(j, now)),
  ]);
  return Number(res.rows[0]?.inserted ?? 0);
}
