import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LockClass } from '../db/lock-ids.js';
import { loadText } from '../db/sql-loader.js';
import { ElectionError } from './errors.js';
import { Holder } from './holder.js';
import type { LeaderKey } from './keys.js';
import { LockSession } from './lock-session.js';
import { type Elector, type LeaderLogger, type LeaderTerm, silentLogger } from './port.js';
import { type ElectorSettings, resolveElectorSettings } from './settings.js';
import { HeldTerm } from './term.js';

const sql = {
  lock: loadText(new URL('./sql/lock.sql', import.meta.url)),
  unlock: loadText(new URL('./sql/unlock.sql', import.meta.url)),
  beginTerm: loadText(new URL('./sql/begin-term.sql', import.meta.url)),
};

export interface PgElectorOptions {
  /**
   * A DIRECT connection string to PostgreSQL: not through a transaction-pooling proxy
   * (PgBouncer in transaction mode would hand the session, and its locks, to others), and
   * with no maximum connection lifetime.
   */
  connectionString: string;
  /** This process's node id (default hostname-pid); appears in application_name and the journal. */
  nodeId?: string;
  settings?: Partial<ElectorSettings>;
  logger?: LeaderLogger;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/**
 * Leader election on PostgreSQL session advisory locks.
 *
 * Every key is held on ONE dedicated session per process (the holder, see `holder.ts`). To
 * wait for a key without blocking that session, a campaign opens its own waiter session and:
 *
 * 1. blocks in `pg_advisory_lock(gate, key)`: one candidate per key queues at a time;
 * 2. blocks in `pg_advisory_lock(leadership, key)`: granted the instant the leader unlocks
 *    or its session ends (a crash, or the server's idle_session_timeout after a hang);
 * 3. begins the term on the session that was granted the lock: bumps the epoch, journals;
 * 4. unlocks, and the holder takes the lock with `pg_try_advisory_lock`: nobody else can,
 *    as every other candidate still queues on the gate this waiter holds;
 * 5. checks that the term row still carries its epoch, and closes the waiter (freeing the gate).
 *
 * Every epoch bump runs on a session that holds the leadership lock at that moment, so
 * epochs only grow with real grants; step 5 rejects the rare holder that took the lock in
 * another campaign's hand-over window after its own waiter had been ended.
 */
export class PgElector implements Elector {
  readonly nodeId: string;
  readonly #options: PgElectorOptions;
  readonly #settings: ElectorSettings;
  readonly #logger: LeaderLogger;
  readonly #now: () => number;
  readonly #campaigns = new Map<number, AbortController>();
  /** Campaigns in flight, so close() returns only once their sessions are closed. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #holder: Holder | undefined;
  #opening: Promise<Holder> | undefined;
  #closed = false;

  constructor(options: PgElectorOptions) {
    this.#options = options;
    this.nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
    this.#settings = resolveElectorSettings(options.settings);
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The settings in force (defaults filled in). */
  get settings(): Readonly<ElectorSettings> {
    return this.#settings;
  }

  /** Backend pid of the holder session, if open (for drills and diagnostics). */
  get holderPid(): number | undefined {
    return this.#holder && !this.#holder.dead ? this.#holder.pid : undefined;
  }

  async #getHolder(): Promise<Holder> {
    if (this.#holder && !this.#holder.dead) return this.#holder;
    this.#opening ??= Holder.open({
      connectionString: this.#options.connectionString,
      nodeId: this.nodeId,
      settings: this.#settings,
      logger: this.#logger,
      now: this.#now,
      onDead: (h) => {
        if (this.#holder === h) this.#holder = undefined;
      },
    }).finally(() => {
      this.#opening = undefined;
    });
    const holder = await this.#opening;
    if (this.#closed) {
      await holder.close('closed');
      throw new ElectionError('*', 'elector closed');
    }
    this.#holder = holder;
    return holder;
  }

  async campaign(key: LeaderKey, signal: AbortSignal): Promise<LeaderTerm> {
    signal.throwIfAborted();
    if (this.#closed) throw new ElectionError(key.name, 'elector closed');
    if (this.#campaigns.has(key.id) || this.#holder?.terms.has(key.id)) {
      throw new ElectionError(key.name, 'already campaigning for or leading this key');
    }
    const controller = new AbortController();
    const stop = () => controller.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    this.#campaigns.set(key.id, controller);
    const acquiring = this.#acquire(key, controller.signal);
    this.#inFlight.add(acquiring);
    try {
      return await acquiring;
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw err instanceof ElectionError ? err : new ElectionError(key.name, String(err), { cause: err });
    } finally {
      signal.removeEventListener('abort', stop);
      this.#campaigns.delete(key.id);
      this.#inFlight.delete(acquiring);
    }
  }

  async #acquire(key: LeaderKey, signal: AbortSignal): Promise<HeldTerm> {
    // Open the holder first: its pid goes into the term row, and a dead server fails fast.
    await this.#getHolder();
    const waiter = await LockSession.open(
      this.#options.connectionString,
      `stratus-candidate:${this.nodeId}:${key.name}`,
      { ...this.#settings, idleSessionTimeoutMs: this.#settings.candidateIdleTimeoutMs },
    );
    // Aborting cuts the waiter out of the lock queue: the server notices the closed socket
    // within client_connection_check_interval and drops its place (and any lock it got).
    const cut = () => waiter.destroy();
    signal.addEventListener('abort', cut, { once: true });
    try {
      signal.throwIfAborted();
      await waiter.query(sql.lock, [LockClass.leadershipGate, key.id]);
      await waiter.query(sql.lock, [LockClass.leadership, key.id]);
      signal.throwIfAborted();
      const holder = await this.#getHolder();
      const rows = await waiter.query<{ epoch: number; acquired_at: Date }>(sql.beginTerm, [
        key.id,
        key.name,
        this.nodeId,
        holder.pid,
        LockClass.leadershipFence,
      ]);
      const begun = rows[0]!;
      await waiter.query(sql.unlock, [LockClass.leadership, key.id]);
      if (!(await holder.tryLock(key.id))) {
        throw new ElectionError(key.name, `hand-over of epoch ${begun.epoch} lost the lock`);
      }
      const term = new HeldTerm(
        key.name,
        key.id,
        begun.epoch,
        this.nodeId,
        begun.acquired_at,
        () => holder.confirmed(),
        this.#settings,
      );
      try {
        const current = await holder.currentEpoch(key.id);
        if (current !== begun.epoch) {
          await holder.unlock(key.id);
          throw new ElectionError(key.name, `epoch ${begun.epoch} was superseded by ${current} in hand-over`);
        }
        signal.throwIfAborted();
      } catch (err) {
        if (!(err instanceof ElectionError))
          await holder.unlock(key.id).catch(() => holder.die('session-lost', err));
        throw err;
      }
      // A holder that died during the hand-over has already ended the terms it tracked and
      // lost this lock with its session: a term adopted now would never be told it ended.
      if (holder.dead)
        throw new ElectionError(key.name, `holder session lost in hand-over of epoch ${begun.epoch}`);
      holder.adopt(term);
      this.#logger.info({ key: key.name, epoch: term.epoch, pid: holder.pid }, 'elected leader');
      return term;
    } finally {
      signal.removeEventListener('abort', cut);
      await waiter.close();
    }
  }

  async release(term: LeaderTerm, reason: string): Promise<void> {
    const holder = this.#holder;
    const held = holder?.terms.get(term.keyId);
    if (!holder || held !== term) return;
    await holder.release(held, reason);
    this.#logger.info({ key: term.key, epoch: term.epoch, reason }, 'released leadership');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#campaigns.values()) c.abort(new ElectionError('*', 'elector closed'));
    await Promise.allSettled([...this.#inFlight]);
    const holder = this.#holder ?? (await this.#opening?.catch(() => undefined));
    await holder?.close('closed');
  }
}

/** A PostgreSQL elector (see `PgElector`). */
export function createPgElector(options: PgElectorOptions): PgElector {
  return new PgElector(options);
}
