// What the controllers' multi-process failover tests share: settings that replace a hung leader
// within about a second (the defaults take 3 s), and who leads a key now, read from the database.

import type { Queryable } from '../../src/ha/db/database.js';

/**
 * Environment of a `stratus start --role worker` whose leadership fails over fast: a hung
 * leader is replaced within about a second, which bounds a fenced transaction below it.
 */
export const FAST_FAILOVER_ENV: Readonly<Record<string, string>> = {
  LEADER_HEARTBEAT_MS: '200',
  LEADER_RENEW_DEADLINE_MS: '700',
  LEADER_IDLE_SESSION_TIMEOUT_MS: '1000',
  LEADER_BACKOFF_MAX_MS: '200',
  FENCED_STATEMENT_TIMEOUT_MS: '400',
  FENCED_IDLE_TIMEOUT_MS: '300',
  FENCED_DEADLINE_MS: '900',
};

/** The holder and epoch of leadership key `keyId` as the database records them, if any. */
export async function leaderOf(
  db: Queryable,
  keyId: number,
): Promise<{ holder: string; epoch: number } | undefined> {
  const res = await db.query<{ holder: string; epoch: number | string }>(
    'SELECT holder, epoch FROM stratus_leadership WHERE key_id = $1',
    [keyId],
  );
  const row = res.rows[0];
  return row ? { holder: row.holder, epoch: Number(row.epoch) } : undefined;
}

/**
 * The jobs not finished, each with its outbox row and ledger row as one line: what a failover
 * test prints when a wait timed out, to tell a job the queue never got (dispatched, no ledger
 * row: it waits for the outbox sweeper's grace) from one a dead worker still leases.
 */
export async function unfinishedJobs(db: Queryable): Promise<string[]> {
  const res = await db.query<Record<string, unknown>>(
    `SELECT o.id, o.job_key, o.created_at, o.dispatched_at, o.dispatch_count, o.claimed_until,
            l.state, l.owner, l.attempt, l.lease_expires_at, l.retry_at, l.last_error, now() AS now
       FROM stratus_outbox o LEFT JOIN stratus_ledger l ON l.job_key = o.job_key
      WHERE o.done_at IS NULL AND (l.state IS NULL OR l.state IN ('running', 'pending'))
      ORDER BY o.id`,
  );
  const at = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v ?? '-'));
  return res.rows.map(
    (r) =>
      `${r.job_key} created ${at(r.created_at)} dispatched ${at(r.dispatched_at)} x${r.dispatch_count} ` +
      `claimed ${at(r.claimed_until)} ledger ${r.state ?? 'none'} owner ${r.owner ?? '-'} attempt ${r.attempt ?? '-'} ` +
      `lease ${at(r.lease_expires_at)} retry ${at(r.retry_at)} error ${r.last_error ?? '-'} (now ${at(r.now)})`,
  );
}
