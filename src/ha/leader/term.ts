import { LeadershipLostError, type LossReason } from './errors.js';
import type { LeaderTerm } from './port.js';
import { defaultFenceSettings, type FenceSettings } from './settings.js';

/** A term as the electors keep it: the port's view plus the means to end it. */
export class HeldTerm implements LeaderTerm {
  readonly #controller = new AbortController();

  constructor(
    readonly key: string,
    readonly keyId: number,
    readonly epoch: number,
    readonly nodeId: string,
    readonly acquiredAt: Date,
    /** True while the elector's lock confirmation is within the renew deadline. */
    private readonly confirmed: () => boolean,
    readonly bounds: Readonly<FenceSettings> = defaultFenceSettings,
  ) {}

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  isCurrent(): boolean {
    return !this.#controller.signal.aborted && this.confirmed();
  }

  /** Ends the term: aborts its signal with a `LeadershipLostError`. Returns false if already ended. */
  end(reason: LossReason, cause?: unknown): boolean {
    if (this.#controller.signal.aborted) return false;
    this.#controller.abort(new LeadershipLostError(this.key, this.epoch, reason, { cause }));
    return true;
  }
}
