import { LockClass } from '../db/lock-ids.js';
import { loadText } from '../db/sql-loader.js';
import type { LossReason } from './errors.js';
import { LockSession } from './lock-session.js';
import type { LeaderLogger } from './port.js';
import type { ElectorSettings } from './settings.js';
import type { HeldTerm } from './term.js';

const sql = {
  heldLocks: loadText(new URL('./sql/held-locks.sql', import.meta.url)),
  tryLock: loadText(new URL('./sql/try-lock.sql', import.meta.url)),
  unlock: loadText(new URL('./sql/unlock.sql', import.meta.url)),
  termEpoch: loadText(new URL('./sql/term-epoch.sql', import.meta.url)),
  endTerm: loadText(new URL('./sql/end-term.sql', import.meta.url)),
};

export interface HolderOptions {
  connectionString: string;
  nodeId: string;
  settings: ElectorSettings;
  logger: LeaderLogger;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Called once when the holder dies, after every term was ended. */
  onDead: (holder: Holder) => void;
}

/**
 * The one lock session of a process that holds every key it leads, tracked per key. It
 * heartbeats every `heartbeatIntervalMs` with a query that checks the locks themselves
 * (not `SELECT 1`), which also keeps the server's `idle_session_timeout` from ending it.
 * It dies, ending every term, on any session error or when no heartbeat sent within
 * `renewDeadlineMs` has succeeded. It is never given up while a key is held.
 */
export class Holder {
  readonly terms = new Map<number, HeldTerm>();
  readonly #session: LockSession;
  readonly #options: HolderOptions;
  /** Send time (monotonic) of the latest query on this session that succeeded. */
  #confirmedAt: number;
  #heartbeat: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #beating = false;
  #dead = false;

  private constructor(session: LockSession, options: HolderOptions, openedAt: number) {
    this.#session = session;
    this.#options = options;
    this.#confirmedAt = openedAt;
    session.onEnd((err) => this.die('session-lost', err));
    this.#heartbeat = setInterval(() => void this.#beat(), options.settings.heartbeatIntervalMs);
    this.#armDeadline();
  }

  static async open(options: HolderOptions): Promise<Holder> {
    const openedAt = options.now();
    const session = await LockSession.open(
      options.connectionString,
      `stratus-leader:${options.nodeId}`,
      options.settings,
    );
    return new Holder(session, options, openedAt);
  }

  /** The backend pid of the session (recorded in term rows). */
  get pid(): number {
    return this.#session.pid;
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** True while a query sent within the renew deadline has succeeded. */
  confirmed(): boolean {
    return !this.#dead && this.#options.now() - this.#confirmedAt < this.#options.settings.renewDeadlineMs;
  }

  /**
   * Runs one statement on the session; a success confirms the session from its send time.
   * The session sends one statement at a time, so this one may wait behind another: taking
   * the time before it is queued can only make the leader stop believing sooner, never later.
   */
  async #run<R extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<R[]> {
    const sentAt = this.#options.now();
    const rows = await this.#session.query<R>(text, params);
    if (sentAt > this.#confirmedAt) {
      this.#confirmedAt = sentAt;
      this.#armDeadline();
    }
    return rows;
  }

  #armDeadline(): void {
    clearTimeout(this.#deadline);
    const left = this.#confirmedAt + this.#options.settings.renewDeadlineMs - this.#options.now();
    this.#deadline = setTimeout(() => this.#checkDeadline(), Math.max(0, left));
  }

  #checkDeadline(): void {
    if (this.#dead) return;
    if (this.confirmed()) this.#armDeadline();
    else this.die('renew-deadline', new Error('no heartbeat succeeded within the renew deadline'));
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#dead) return;
    this.#beating = true;
    const expected = [...this.terms.values()];
    try {
      const rows = await this.#run<{ key_id: number }>(sql.heldLocks, [LockClass.leadership]);
      const held = new Set(rows.map((r) => r.key_id));
      for (const term of expected) {
        if (!held.has(term.keyId) && this.terms.get(term.keyId) === term) {
          this.terms.delete(term.keyId);
          this.#options.logger.error({ key: term.key, epoch: term.epoch }, 'leadership lock missing');
          term.end('lock-missing');
        }
      }
    } catch (err) {
      this.die('session-lost', err);
    } finally {
      this.#beating = false;
    }
  }

  /** Takes the leadership lock of `keyId` if nobody holds it. */
  async tryLock(keyId: number): Promise<boolean> {
    const rows = await this.#run<{ locked: boolean }>(sql.tryLock, [LockClass.leadership, keyId]);
    return rows[0]?.locked === true;
  }

  async unlock(keyId: number): Promise<void> {
    await this.#run(sql.unlock, [LockClass.leadership, keyId]);
  }

  /** The key's current epoch from its term row (undefined when none). */
  async currentEpoch(keyId: number): Promise<number | undefined> {
    const rows = await this.#run<{ epoch: number }>(sql.termEpoch, [keyId]);
    return rows[0]?.epoch;
  }

  /** Tracks a term whose lock this session now holds; the caller checks `dead` first. */
  adopt(term: HeldTerm): void {
    if (this.#dead) throw new Error('a dead holder cannot adopt a term');
    this.terms.set(term.keyId, term);
  }

  /**
   * Ends a term and frees its lock: stops tracking first (so the heartbeat does not mistake
   * the unlock for a loss), journals the reason, then unlocks. A failure kills the holder,
   * which frees the lock anyway.
   */
  async release(term: HeldTerm, reason: string): Promise<void> {
    if (this.terms.get(term.keyId) !== term) return;
    this.terms.delete(term.keyId);
    term.end('released');
    try {
      await this.#run(sql.endTerm, [term.keyId, term.epoch, reason]);
      await this.unlock(term.keyId);
    } catch (err) {
      this.die('session-lost', err);
    }
  }

  /** Ends every term, stops the timers and cuts the session. Idempotent. */
  die(reason: LossReason, cause?: unknown): void {
    if (this.#dead) return;
    this.#dead = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#deadline);
    this.#session.destroy();
    const terms = [...this.terms.values()];
    this.terms.clear();
    if (terms.length > 0 || reason !== 'closed') {
      this.#options.logger.warn(
        { reason, pid: this.pid, keys: terms.map((t) => t.key), err: String(cause ?? '') },
        'leader session lost',
      );
    }
    for (const term of terms) term.end(reason, cause);
    this.#options.onDead(this);
  }

  /** Releases every held term (journalled as `reason`), then closes the session politely. */
  async close(reason: string): Promise<void> {
    if (this.#dead) return;
    for (const term of [...this.terms.values()]) await this.release(term, reason);
    if (this.#dead) return;
    this.#dead = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#deadline);
    await this.#session.close();
    this.#options.onDead(this);
  }
}
