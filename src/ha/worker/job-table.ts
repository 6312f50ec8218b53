import type { JobEnvelope } from '../job/envelope.js';
import type { Delivery } from '../queue/port.js';
import { HeldJob, type JobState, OCCUPIES_KIND_ROOM, OCCUPIES_LEASE, OCCUPIES_SLOT } from './held-job.js';
import type { ResolvedHandler } from './registrations.js';

/** The counts of one kind, kept by every transition. */
interface KindCounts {
  /** Jobs in each state. */
  readonly byState: Record<JobState, number>;
  /** Waiting for a lease, in arrival order (entries that moved on are skipped when read). */
  readonly waiting: HeldJob[];
  /** Leased and not started, in lease order (same). */
  readonly leased: HeldJob[];
}

const zero = (): Record<JobState, number> => ({
  waiting: 0,
  acquiring: 0,
  leased: 0,
  running: 0,
  aborted: 0,
  completing: 0,
  settling: 0,
  done: 0,
});

/**
 * Every message a worker holds, each as ONE `HeldJob`, with what the loop asks of them —
 * by message id, by job key, per kind in FIFO order, per kind and state counted — all
 * derived from the jobs' transitions, so no count is moved by hand.
 */
export class JobTable {
  readonly #byId = new Map<string, HeldJob>();
  readonly #byKey = new Map<string, HeldJob>();
  readonly #kinds = new Map<string, KindCounts>();
  #completing = 0;

  constructor(private readonly onForget: () => void = () => {}) {}

  #kind(kind: string): KindCounts {
    let k = this.#kinds.get(kind);
    if (!k) {
      k = { byState: zero(), waiting: [], leased: [] };
      this.#kinds.set(kind, k);
    }
    return k;
  }

  readonly #changed = (h: HeldJob, from: JobState, to: JobState): void => {
    const k = this.#kind(h.job.kind);
    k.byState[from]--;
    k.byState[to]++;
    if (from === 'completing') this.#completing--;
    if (to === 'completing') this.#completing++;
    if (to === 'leased') k.leased.push(h);
    if (to === 'done') {
      if (this.#byId.get(h.delivery.id) === h) this.#byId.delete(h.delivery.id);
      if (this.#byKey.get(h.job.key) === h) this.#byKey.delete(h.job.key);
      this.onForget();
    }
  };

  /** Holds a received message as a waiting job. */
  admit(delivery: Delivery, job: JobEnvelope, reg: ResolvedHandler): HeldJob {
    const h = new HeldJob(delivery, job, reg, this.#changed);
    this.#byId.set(delivery.id, h);
    this.#byKey.set(job.key, h);
    const k = this.#kind(job.kind);
    k.byState.waiting++;
    k.waiting.push(h);
    return h;
  }

  hasMessage(id: string): boolean {
    return this.#byId.has(id);
  }

  hasKey(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Messages held, in any state but done. */
  get size(): number {
    return this.#byId.size;
  }

  /** Jobs whose handler succeeded and whose completion is not recorded yet. */
  get completing(): number {
    return this.#completing;
  }

  all(): HeldJob[] {
    return [...this.#byId.values()];
  }

  inState(states: ReadonlySet<JobState>): HeldJob[] {
    return this.all().filter((h) => states.has(h.state));
  }

  #count(kind: string, states: ReadonlySet<JobState>): number {
    const k = this.#kinds.get(kind);
    if (!k) return 0;
    let n = 0;
    for (const s of states) n += k.byState[s];
    return n;
  }

  /** Handlers of `kind` holding a slot (running, or aborted and not yet settled). */
  slotsInUse(kind: string): number {
    return this.#count(kind, OCCUPIES_SLOT);
  }

  /** Leases of `kind` requested, held or in use. */
  leasesInUse(kind: string): number {
    return this.#count(kind, OCCUPIES_LEASE);
  }

  /** Messages of `kind` held before completion: at most twice its concurrency. */
  roomInUse(kind: string): number {
    return this.#count(kind, OCCUPIES_KIND_ROOM);
  }

  /** Takes the next job of `kind` still in `list`'s state, or undefined. */
  #next(list: HeldJob[], state: JobState): HeldJob | undefined {
    while (list.length > 0) {
      const h = list.shift()!;
      if (h.state === state) return h;
    }
    return undefined;
  }

  /** The next waiting job of `kind`, removed from its FIFO. */
  nextWaiting(kind: string): HeldJob | undefined {
    return this.#next(this.#kind(kind).waiting, 'waiting');
  }

  /** The next leased, unstarted job of `kind`, removed from its FIFO. */
  nextLeased(kind: string): HeldJob | undefined {
    return this.#next(this.#kind(kind).leased, 'leased');
  }

  kinds(): string[] {
    return [...this.#kinds.keys()];
  }
}
