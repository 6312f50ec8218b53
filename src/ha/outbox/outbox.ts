import type { Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { encodeEnvelope, type NewJob } from '../job/envelope.js';

const enqueueSql = loadText(new URL('./sql/enqueue.sql', import.meta.url));
const enqueueQuietSql = loadText(new URL('./sql/enqueue-quiet.sql', import.meta.url));
const wakeSql = loadText(new URL('./sql/wake-relays.sql', import.meta.url));

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

/**
 * `enqueue` without waking the relays from inside the transaction: the caller calls a
 * {@link RelayWaker} once it has committed. For producers with many concurrent transactions
 * (a NOTIFY in each would make their commits wait for one another, see enqueue-quiet.sql).
 * A wake-up that never comes (the process died right after COMMIT) delays the job by at most
 * the relay's poll interval; the job itself is committed either way.
 */
export async function enqueueQuiet(tx: Queryable, job: NewJob): Promise<void> {
  await tx.query(enqueueQuietSql, [[job.key], [encodeEnvelope(job, Date.now())]]);
}

/** Wakes the relays after a commit; never throws, never waits. */
export type RelayWaker = () => void;

/**
 * A waker that coalesces: one notification in flight at a time, and one more after it for
 * every call made meanwhile (whose commit may have come after the one in flight was sent), so
 * every commit is followed by a notification sent after it.
 */
export function createRelayWaker(db: Queryable, onError: (err: unknown) => void = () => {}): RelayWaker {
  let inFlight = false;
  let again = false;
  const run = async () => {
    inFlight = true;
    do {
      again = false;
      await db.query(wakeSql).catch(onError);
    } while (again);
    inFlight = false;
  };
  return () => {
    if (inFlight) again = true;
    else void run();
  };
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
