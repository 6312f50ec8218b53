import type { AcquireRequest, AcquireResult, ExecutionLedger, HeldLease } from '../ledger/port.js';

interface Waiting<Req, Res> {
  readonly items: readonly Req[];
  resolve(value: Res): void;
  reject(err: unknown): void;
}

/**
 * Group commit for the worker's ledger writes: while `exchange` statements are in flight, the
 * completions and lease requests that arrive wait, then ALL go in the next statement. An idle
 * worker writes at once; a busy one pays one commit (one WAL flush, 1-3 ms on this machine)
 * for a whole batch of completions and the next batch of leases together.
 */
export class LedgerBatcher {
  #acquires: Waiting<AcquireRequest, AcquireResult[]>[] = [];
  #completes: Waiting<HeldLease, string[]>[] = [];
  #inFlight = 0;
  /**
   * Two statements in flight, not one: while one commits, the next is already on its way, and
   * PostgreSQL flushes the WAL of concurrent commits together. Measured with 30,000 no-op jobs
   * at concurrency 50 on this two-core machine: 4,700-8,900 jobs/s with one, 9,600-11,900 with
   * two, no better with three. The worker never puts one job key in two statements at once.
   */
  readonly #maxInFlight = 2;

  constructor(
    private readonly ledger: ExecutionLedger,
    private readonly owner: string,
  ) {}

  /** Takes leases for distinct keys; results in request order. */
  acquire(requests: readonly AcquireRequest[]): Promise<AcquireResult[]> {
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#acquires.push({ items: requests, resolve, reject });
      this.#kick();
    });
  }

  /** Completes jobs; resolves with the keys that were refused (stale leases). */
  complete(leases: readonly HeldLease[]): Promise<string[]> {
    if (leases.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#completes.push({ items: leases, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#inFlight >= this.#maxInFlight || (this.#acquires.length === 0 && this.#completes.length === 0))
      return;
    this.#inFlight++;
    const acquires = this.#acquires;
    const completes = this.#completes;
    this.#acquires = [];
    this.#completes = [];
    void this.ledger
      .exchange(
        completes.flatMap((c) => c.items),
        acquires.flatMap((a) => a.items),
        this.owner,
      )
      .then(
        ({ refusedCompletions, acquired }) => {
          const refused = new Set(refusedCompletions);
          for (const c of completes)
            c.resolve(c.items.filter((l) => refused.has(l.jobKey)).map((l) => l.jobKey));
          let offset = 0;
          for (const a of acquires) {
            a.resolve(acquired.slice(offset, offset + a.items.length));
            offset += a.items.length;
          }
        },
        (err: unknown) => {
          for (const w of [...completes, ...acquires]) w.reject(err);
        },
      )
      .finally(() => {
        this.#inFlight--;
        this.#kick();
      });
  }
}
