import type { AcquireRequest, AcquireResult, ExecutionLedger, HeldLease } from '../ledger/port.js';

interface Waiting<Req, Res> {
  readonly items: readonly Req[];
  resolve(value: Res): void;
  reject(err: unknown): void;
}

/**
 * Group commit for the worker's ledger writes: while one `exchange` statement is in flight,
 * the completions and lease requests that arrive wait, then ALL go in the next statement. An
 * idle worker writes at once; a busy one pays one commit (one WAL flush, 1-3 ms on this
 * machine) for a whole batch of completions and the next batch of leases together.
 */
export class LedgerBatcher {
  #acquires: Waiting<AcquireRequest, AcquireResult[]>[] = [];
  #completes: Waiting<HeldLease, string[]>[] = [];
  #inFlight = false;

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
    if (this.#inFlight || (this.#acquires.length === 0 && this.#completes.length === 0)) return;
    this.#inFlight = true;
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
        this.#inFlight = false;
        this.#kick();
      });
  }
}
