import { ElectionError, type LossReason } from './errors.js';
import type { LeaderKey } from './keys.js';
import type { Elector, LeaderTerm } from './port.js';
import { HeldTerm } from './term.js';

/**
 * Leadership shared by the in-process electors of one process (the embedded single-process
 * mode, and unit tests of what runs under a guard). Epochs grow per key like the term rows.
 */
export class MemoryLeadership {
  readonly #holders = new Map<number, HeldTerm>();
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

  /** @internal */
  tryTake(key: LeaderKey, nodeId: string): HeldTerm | undefined {
    if (this.#holders.has(key.id)) return undefined;
    const epoch = this.epoch(key.id) + 1;
    this.#epochs.set(key.id, epoch);
    let term: HeldTerm | undefined;
    term = new HeldTerm(
      key.name,
      key.id,
      epoch,
      nodeId,
      new Date(),
      () => this.#holders.get(key.id) === term,
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

/** An elector whose terms live in a `MemoryLeadership` of this process. */
export class MemoryElector implements Elector {
  readonly #terms = new Set<HeldTerm>();
  readonly #stop = new AbortController();

  constructor(
    readonly nodeId: string,
    private readonly space: MemoryLeadership,
  ) {}

  async campaign(key: LeaderKey, signal: AbortSignal): Promise<LeaderTerm> {
    const both = AbortSignal.any([signal, this.#stop.signal]);
    for (;;) {
      if (this.#stop.signal.aborted) throw new ElectionError(key.name, 'elector closed');
      signal.throwIfAborted();
      const term = this.space.tryTake(key, this.nodeId);
      if (term) {
        this.#terms.add(term);
        term.signal.addEventListener('abort', () => this.#terms.delete(term), { once: true });
        return term;
      }
      await this.space.waitFree(key.id, both);
    }
  }

  async release(term: LeaderTerm, _reason: string): Promise<void> {
    for (const t of this.#terms) if (t === term) this.space.vacate(t, 'released');
  }

  async close(): Promise<void> {
    this.#stop.abort();
    for (const t of [...this.#terms]) this.space.vacate(t, 'closed');
  }
}
