/**
 * The timing of the PostgreSQL elector. The server, not the leader, bounds a hang: it ends a
 * lock session that has been idle for `idleSessionTimeoutMs`, so a stopped or cut-off
 * leader's locks are free at most that long after its last heartbeat. The leader demotes
 * itself earlier, at `renewDeadlineMs` after the last heartbeat it sent that succeeded, so it
 * stops believing before the server hands the key on.
 *
 *   heartbeatIntervalMs (500) < renewDeadlineMs (2000) < idleSessionTimeoutMs (3000)
 */
export interface ElectorSettings {
  /** How often the holder session confirms its locks. */
  heartbeatIntervalMs: number;
  /** Demote when no heartbeat sent within this long (monotonic clock) has succeeded. */
  renewDeadlineMs: number;
  /** Server-side `idle_session_timeout` of every lock session. */
  idleSessionTimeoutMs: number;
  /**
   * Server-side `idle_session_timeout` of a candidate's session. A candidate is idle only
   * for the few milliseconds between the grant and the hand-over, so a candidate that is
   * paused right after its grant (and would hold the key's queue) is ended within this.
   */
  candidateIdleTimeoutMs: number;
  /** Server-side `tcp_user_timeout`: unacknowledged data ends the session. */
  tcpUserTimeoutMs: number;
  /** Server-side TCP keepalives, in seconds: idle, interval, count. */
  keepalivesIdleS: number;
  keepalivesIntervalS: number;
  keepalivesCount: number;
  /**
   * Server-side `client_connection_check_interval`: a waiter blocked in `pg_advisory_lock`
   * whose client went away leaves the lock queue within this long.
   */
  clientCheckIntervalMs: number;
  /** Bounds connecting a lock session. */
  connectTimeoutMs: number;
}

export const defaultElectorSettings: Readonly<ElectorSettings> = Object.freeze({
  heartbeatIntervalMs: 500,
  renewDeadlineMs: 2_000,
  idleSessionTimeoutMs: 3_000,
  candidateIdleTimeoutMs: 1_000,
  tcpUserTimeoutMs: 3_000,
  keepalivesIdleS: 1,
  keepalivesIntervalS: 1,
  keepalivesCount: 2,
  clientCheckIntervalMs: 1_000,
  connectTimeoutMs: 3_000,
});

/** Fills defaults and checks the ordering the bounds depend on. */
export function resolveElectorSettings(overrides: Partial<ElectorSettings> = {}): ElectorSettings {
  const s = { ...defaultElectorSettings, ...overrides };
  for (const [name, value] of Object.entries(s)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`elector setting ${name} must be > 0`);
  }
  if (!(s.heartbeatIntervalMs * 2 <= s.renewDeadlineMs)) {
    throw new RangeError('renewDeadlineMs must leave room for at least two heartbeats');
  }
  if (!(s.renewDeadlineMs < s.idleSessionTimeoutMs)) {
    // Otherwise the server could hand the key to a peer while this leader still believes.
    throw new RangeError('renewDeadlineMs must be shorter than idleSessionTimeoutMs');
  }
  return s;
}
