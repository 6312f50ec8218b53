import type { Queryable } from '../db/database.js';
import { LockClass } from '../db/lock-ids.js';
import { loadText } from '../db/sql-loader.js';
import { ElectionError, type LossReason } from './errors.js';
import type { LeaderKey } from './keys.js';
import type { Elector, LeaderTerm } from './port.js';
import { defaultFenceSettings, type FenceSettings } from './settings.js';
import { HeldTerm } from './term.js';

const sql = {
  beginTerm: loadText(new URL('./sql/begin-term.sql', import.meta.url)),
  endTerm: loadText(new URL('./sql/end-term.sql', import.meta.url)),
};

/**
 * Leadership shared by the in-process electors of one process (the embedded single-process
 * mode, and unit tests of what runs under a guard). Epochs grow per key like the term rows.
 */
export class MemoryLeadership {
  readonly #holders = new Map<number, HeldTerm>();
  /** Keys taken whose term is being begun in the database. */
  readonly #reserved = new Set<number>();
  readonly #epochs = new Map<number, number>();
  readonly #waiters = new Map<number, Array<() => void>>();

  /** The term holding `keyId` now, if any. */
  holder(keyId: number): LeaderTerm | undefined {
    return this.#holders.get(keyId);
  }

  /** The key's latest epoch (0 when never held). */
  epoch(keyId: number): number {
    return this.#epochs.get(keyId) ?? 0;
  }

  /** Ends the current term of `keyId` as a lost session would (tests, drills). */
  revoke(keyId: number, reason: LossReason = 'session-lost'): void {
    const term = this.#holders.get(keyId);
    if (term) this.vacate(term, reason);
  }

  /** @internal Takes the key if free; the caller then begins the term or calls `unreserve`. */
  reserve(keyId: number): boolean {
    if (this.#holders.has(keyId) || this.#reserved.has(keyId)) return false;
    this.#reserved.add(keyId);
    return true;
  }

  /** @internal */
  unreserve(keyId: number): void {
    this.#reserved.delete(keyId);
    for (const wake of this.#waiters.get(keyId)?.splice(0) ?? []) wake();
  }

  /** @internal Installs the term of a reserved key. */
  install(
    key: LeaderKey,
    nodeId: string,
    epoch: number,
    acquiredAt: Date,
    bounds: Readonly<FenceSettings> = defaultFenceSettings,
  ): HeldTerm {
    this.#reserved.delete(key.id);
    this.#epochs.set(key.id, Math.max(epoch, this.epoch(key.id)));
    let term: HeldTerm | undefined;
    term = new HeldTerm(
      key.name,
      key.id,
      epoch,
      nodeId,
      acquiredAt,
      () => this.#holders.get(key.id) === term,
      bounds,
    );
    this.#holders.set(key.id, term);
    return term;
  }

  /** @internal Waits until `keyId` may be free (or `signal` aborts). */
  waitFree(keyId: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(keyId) ?? [];
      const wake = () => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      list.push(wake);
      this.#waiters.set(keyId, list);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** @internal */
  vacate(term: HeldTerm, reason: LossReason): void {
    if (this.#holders.get(term.keyId) !== term) return;
    this.#holders.delete(term.keyId);
    term.end(reason);
    const list = this.#waiters.get(term.keyId) ?? [];
    this.#waiters.delete(term.keyId);
    for (const wake of list) wake();
  }
}

/**
 * An elector whose terms live in a `MemoryLeadership` of this process. Given a database
 * (the embedded PGlite), it begins every term there too, so epochs survive restarts and
 * `fencedTransaction` works as with the PostgreSQL elector.
 */
export class MemoryElector implements Elector {
  readonly #terms = new Set<HeldTerm>();
  readonly #stop = new AbortController();

  constructor(
    readonly nodeId: string,
    private readonly space: MemoryLeadership,
    private readonly db?: Queryable,
    /** The bounds of the fenced transactions of its terms (the database is in-process). */
    private readonly fence: Readonly<FenceSettings> = defaultFenceSettings,
  ) {}

  async campaign(key: LeaderKey, signal: AbortSignal): Promise<LeaderTerm> {
    const both = AbortSignal.any([signal, this.#stop.signal]);
    for (;;) {
      if (this.#stop.signal.aborted) throw new ElectionError(key.name, 'elector closed');
      signal.throwIfAborted();
      if (this.space.reserve(key.id)) {
        let epoch = this.space.epoch(key.id) + 1;
        let acquiredAt = new Date();
        try {
          if (this.db) {
            const res = await this.db.query<{ epoch: number; acquired_at: Date }>(sql.beginTerm, [
              key.id,
              key.name,
              this.nodeId,
              0,
              LockClass.leadershipFence,
            ]);
            epoch = res.rows[0]!.epoch;
            acquiredAt = res.rows[0]!.acquired_at;
          }
        } catch (err) {
          this.space.unreserve(key.id);
          throw new ElectionError(key.name, 'could not begin the term', { cause: err });
        }
        // An abort or close() that came while the term was being begun wins: the key is
        // freed for the next candidate and the journal closes the term nobody will hold.
        if (both.aborted) {
          this.space.unreserve(key.id);
          await this.#journalEnd({ keyId: key.id, epoch }, 'aborted');
          if (this.#stop.signal.aborted) throw new ElectionError(key.name, 'elector closed');
          signal.throwIfAborted();
        }
        const term = this.space.install(key, this.nodeId, epoch, acquiredAt, this.fence);
        this.#terms.add(term);
        term.signal.addEventListener('abort', () => this.#terms.delete(term), { once: true });
        return term;
      }
      await this.space.waitFree(key.id, both);
    }
  }

  async release(term: LeaderTerm, reason: string): Promise<void> {
    const held = [...this.#terms].find((t) => t === term);
    if (!held) return;
    this.space.vacate(held, 'released');
    await this.#journalEnd(held, reason);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    for (const t of [...this.#terms]) {
      this.space.vacate(t, 'closed');
      await this.#journalEnd(t, 'closed');
    }
  }

  /**
   * Closes the term in the journal with its reason. Best effort: a term left open there is
   * closed as superseded by the next one.
   */
  async #journalEnd(term: Pick<LeaderTerm, 'keyId' | 'epoch'>, reason: string): Promise<void> {
    await this.db?.query(sql.endTerm, [term.keyId, term.epoch, reason]).catch(() => {});
  }
}
