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
