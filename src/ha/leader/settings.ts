/**
 * The timing of the PostgreSQL elector. The server, not the leader, bounds a hang: it ends a
 * lock session that has been idle for `idleSessionTimeoutMs`, so a stopped or cut-off
 * leader's locks are free at most that long after its last heartbeat. The leader demotes
 * itself earlier, at `renewDeadlineMs` after the last heartbeat it sent that succeeded, so it
 * stops believing before the server hands the key on.
 *
 *   heartbeatIntervalMs (500) < renewDeadlineMs (2000) < idleSessionTimeoutMs (3000)
 *
 * The fence bounds below are carried by every term the elector hands out, so each
 * `fencedTransaction` under that term uses them. A stopped or cut-off leader's fenced
 * transaction is ended by the server at most `fencedStatementTimeoutMs + fencedIdleTimeoutMs`
 * (2500 ms) after it stopped, before the server frees its lock (3000 ms): the successor's
 * epoch bump never waits for it, so a hang is replaced within idleSessionTimeoutMs plus the
 * hand-over whatever the leader was doing. A live leader's transaction is cut by the client
 * at `fencedDeadlineMs`.
 */
export interface FenceSettings {
  /**
   * Server-side `statement_timeout` of each statement inside a fenced transaction. Fenced
   * work must be short: a longer statement fails with a statement timeout (57014).
   */
  fencedStatementTimeoutMs: number;
  /** Server-side `idle_in_transaction_session_timeout` of a fenced transaction. */
  fencedIdleTimeoutMs: number;
  /**
   * Client-side deadline of a whole fenced transaction, from the call to its commit: past it
   * the call rejects with `FenceDeadlineError` even when its connection hangs (a blackholed
   * network), and the transaction sends nothing more.
   */
  fencedDeadlineMs: number;
}

export const defaultFenceSettings: Readonly<FenceSettings> = Object.freeze({
  fencedStatementTimeoutMs: 1_500,
  fencedIdleTimeoutMs: 1_000,
  fencedDeadlineMs: 2_500,
});

export interface ElectorSettings extends FenceSettings {
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
  ...defaultFenceSettings,
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

/** The timing of a `LeaderGuard`. */
export interface GuardSettings {
  /**
   * How long a guard waits for its singleton to return once aborted (term lost or shutdown).
   * Past it the guard logs an error, counts it in `stratus_leader_singleton_stuck_total`, gives
   * the key up and carries on without it: the abandoned singleton's writes are refused by the
   * fence. Leadership is never reported while the guard waits.
   */
  singletonStopGraceMs: number;
}

export const defaultGuardSettings: Readonly<GuardSettings> = Object.freeze({
  singletonStopGraceMs: 5_000,
});
