// What G6 asks of the resilient wrapper, measured where the calls are made: how long a call
// took to be refused by an open breaker (fail-fast), and how long calls to the other backends
// took while one backend was stalled (its breaker not closed, or a call of it in flight for
// longer than `hangMs`: 5 s by default, so a call merely slowed by a loaded machine does not
// count as a stall). The last `keep` samples of each are kept per backend, in memory, and
// published with the breaker report (src/runtime/breaker-report.ts), so a drill can judge
// containment from the processes' own figures rather than from nothing.

/** The samples of one backend. */
export interface ContainmentSamples {
  /** Latencies of the calls its open breaker refused, ms. */
  readonly failFastMs: readonly number[];
  /** Latencies of successful calls to other backends while this one was stalled, ms. */
  readonly othersMs: readonly number[];
}

export interface ContainmentOptions {
  /** Whether `backend`'s breaker is not closed (open, half-open or isolated). */
  readonly breakerOpen: (backend: string) => boolean;
  /** A call in flight this long marks its backend stalled; default 5 000 ms. */
  readonly hangMs?: number;
  /** Samples kept per backend and kind; default 64. */
  readonly keep?: number;
  /** Monotonic clock, ms; default `performance.now`. */
  readonly now?: () => number;
}

/** Samples fail-fast and cross-backend latencies for every backend of one process. */
export class ContainmentSampler {
  readonly #failFast = new Map<string, number[]>();
  readonly #others = new Map<string, number[]>();
  /** Start times of the calls in flight, per backend. */
  readonly #inFlight = new Map<string, Set<number>>();
  readonly #breakerOpen: (backend: string) => boolean;
  readonly #hangMs: number;
  readonly #keep: number;
  readonly now: () => number;

  constructor(options: ContainmentOptions) {
    this.#breakerOpen = options.breakerOpen;
    this.#hangMs = options.hangMs ?? 5_000;
    this.#keep = options.keep ?? 64;
    this.now = options.now ?? (() => performance.now());
  }

  /** Marks a call of `backend` started; returns its start time for {@link end}. */
  start(backend: string): number {
    const t0 = this.now();
    let calls = this.#inFlight.get(backend);
    if (calls === undefined) {
      calls = new Set();
      this.#inFlight.set(backend, calls);
    }
    // Two calls started in the same instant share a key; the first to end removes it, which
    // only makes the hang test miss a stall for that long, never invent one.
    calls.add(t0);
    return t0;
  }

  /**
   * Marks the call of `backend` started at `t0` ended: refused by its open breaker
   * (`refused`), succeeded (`ok`), or failed otherwise.
   */
  end(backend: string, t0: number, outcome: 'refused' | 'ok' | 'failed'): void {
    const t = this.now();
    this.#inFlight.get(backend)?.delete(t0);
    const ms = t - t0;
    if (outcome === 'refused') {
      this.#push(this.#failFast, backend, ms);
      return;
    }
    if (outcome !== 'ok') return;
    // Every backend called at least once is a key of #inFlight (refused calls start too).
    for (const other of this.#inFlight.keys()) {
      if (other !== backend && this.#stalled(other, t)) this.#push(this.#others, other, ms);
    }
  }

  /** The samples of `backend`, oldest first. */
  samples(backend: string): ContainmentSamples {
    return { failFastMs: this.#failFast.get(backend) ?? [], othersMs: this.#others.get(backend) ?? [] };
  }

  #stalled(backend: string, t: number): boolean {
    if (this.#breakerOpen(backend)) return true;
    for (const started of this.#inFlight.get(backend) ?? []) if (t - started >= this.#hangMs) return true;
    return false;
  }

  #push(into: Map<string, number[]>, backend: string, ms: number): void {
    let values = into.get(backend);
    if (values === undefined) {
      values = [];
      into.set(backend, values);
    }
    values.push(ms);
    if (values.length > this.#keep) values.shift();
  }
}
