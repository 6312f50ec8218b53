import type { JobEnvelope } from '../job/envelope.js';
import type { AcquireRefusal, Lease } from '../ledger/port.js';
import type { Delivery } from '../queue/port.js';
import { IllegalTransitionError } from './errors.js';
import type { Execution } from './execution.js';
import type { ResolvedHandler } from './registrations.js';

/**
 * Where a message a worker holds stands, from receipt to its verdict:
 *
 * ```
 * waiting ──▶ acquiring ──▶ leased ──▶ running ──▶ completing ──▶ done
 *    │            │           │  │        │  └──▶ aborted ─────────▶ done
 *    │            │           │  │        └──▶ settling ───────────▶ done
 *    │            │           │  └──▶ settling (never started: hand back, dead letter)
 *    │            │           └──▶ done (lease lost before it started: it never starts)
 *    │            ├──▶ settling (lease refused) ──▶ done
 *    │            └──▶ done (the ledger failed: left to the queue's reclaim)
 *    └──▶ done (handed back unleased)
 * ```
 *
 * `aborted` is a running job whose lease was lost: its handler was told to stop and still
 * holds its slot until it settles, and nothing is recorded for it. `completing` and `settling`
 * jobs are heartbeated (their lease must outlive the completion or the recorded failure) but a
 * lease they lose aborts nothing: the ledger's answer to that write decides.
 */
export type JobState =
  | 'waiting'
  | 'acquiring'
  | 'leased'
  | 'running'
  | 'aborted'
  | 'completing'
  | 'settling'
  | 'done';

/** The transitions the worker may make; any other is a bug and throws. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  waiting: ['acquiring', 'done'],
  acquiring: ['leased', 'settling', 'done'],
  leased: ['running', 'settling', 'done'],
  running: ['completing', 'settling', 'aborted'],
  aborted: ['done'],
  completing: ['done'],
  settling: ['done'],
  done: [],
};

/**
 * States whose lease (when they have one) the heartbeat extends: the lease must outlive the
 * completion or the failure being recorded, not just the handler.
 */
export const HEARTBEATED: ReadonlySet<JobState> = new Set(['leased', 'running', 'completing', 'settling']);
/** States that take a share of the kind's room (twice its concurrency). */
export const OCCUPIES_KIND_ROOM: ReadonlySet<JobState> = new Set([
  'waiting',
  'acquiring',
  'leased',
  'running',
  'aborted',
]);
/** States whose handler holds one of the kind's slots. */
export const OCCUPIES_SLOT: ReadonlySet<JobState> = new Set(['running', 'aborted']);
/** States that count against the kind's leases (requested, held or in use). */
export const OCCUPIES_LEASE: ReadonlySet<JobState> = new Set(['acquiring', 'leased', 'running', 'aborted']);

/** The ONE record of a message a worker holds. Its state changes only through `to`. */
export class HeldJob {
  #state: JobState = 'waiting';
  lease: Lease | undefined;
  /** Local time the last successful lease renewal was SENT (a lower bound of the lease's start). */
  renewedAt = 0;
  execution: Execution | undefined;
  refusal: AcquireRefusal | undefined;

  constructor(
    readonly delivery: Delivery,
    readonly job: JobEnvelope,
    readonly reg: ResolvedHandler,
    /** Told of every transition, after the state changed (the table's counters). */
    private readonly onChange: (h: HeldJob, from: JobState, to: JobState) => void = () => {},
  ) {}

  get state(): JobState {
    return this.#state;
  }

  /** Moves to `next`; throws `IllegalTransitionError` when the diagram does not allow it. */
  to(next: JobState): void {
    const from = this.#state;
    if (!TRANSITIONS[from].includes(next)) throw new IllegalTransitionError(this.job.key, from, next);
    this.#state = next;
    this.onChange(this, from, next);
  }

  /** The lease; throws when called in a state that has none (a bug, not a runtime condition). */
  get heldLease(): Lease {
    if (!this.lease) throw new IllegalTransitionError(this.job.key, this.#state, 'leased');
    return this.lease;
  }
}
