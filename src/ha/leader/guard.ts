import type { Runnable } from '../lifecycle/runnable.js';
import { sleep } from '../lifecycle/sleep.js';
import { type BackoffOptions, backoffDelay, defaultBackoff } from './backoff.js';
import { coerceError, isLeadershipLostError } from './errors.js';
import type { LeaderKey } from './keys.js';
import type { LeaderMetrics } from './metrics.js';
import { type Elector, type LeaderLogger, type LeaderTerm, silentLogger } from './port.js';
import { defaultGuardSettings } from './settings.js';

/**
 * The work a leader does: runs until `signal` aborts (leadership lost or shutdown), then
 * returns once it has stopped. Every write it makes should be fenced with `term`.
 */
export type Singleton = (signal: AbortSignal, term: LeaderTerm) => Promise<void>;

/** What a guard reports, in order, for tests, drills and logs. */
export type GuardEvent =
  | { type: 'elected'; key: string; epoch: number }
  /** The term was lost (not released): the singleton is being aborted. */
  | { type: 'lost'; key: string; epoch: number; reason: string }
  /** The term is over and its singleton has returned. */
  | { type: 'ended'; key: string; epoch: number; reason: string }
  | { type: 'campaign-failed'; key: string; error: Error; retryInMs: number }
  /**
   * The aborted singleton had not returned after the grace: the guard gave it up and went on
   * without it (its writes are refused by the fence).
   */
  | { type: 'singleton-stuck'; key: string; epoch: number; graceMs: number }
  | { type: 'singleton-failed'; key: string; epoch: number; error: Error };

export interface LeaderGuardOptions {
  elector: Elector;
  key: LeaderKey;
  run: Singleton;
  /** Runnable name; default `leader:<key>`. */
  name?: string;
  logger?: LeaderLogger;
  metrics?: LeaderMetrics;
  backoff?: Partial<BackoffOptions>;
  /** See `GuardSettings.singletonStopGraceMs` (default 5000 ms). */
  singletonStopGraceMs?: number;
  /** A term that ends sooner than this counts as a failure for backoff. Default 1000 ms. */
  minHealthyTermMs?: number;
  random?: () => number;
  /** Monotonic ms. */
  now?: () => number;
  /** Told of every transition; a throwing listener is logged and ignored. */
  onEvent?: (event: GuardEvent) => void;
}

/**
 * Runs a singleton while this process leads a key: campaigns, starts the singleton with the
 * term, aborts it when the term ends and waits for it to return before campaigning again,
 * restarts it on re-election, and backs off exponentially (full jitter) after failures.
 * Stopping (the runnable's signal) aborts the singleton, waits for it, then releases the key
 * at once so a peer takes over without waiting for any timeout. An aborted singleton gets
 * `singletonStopGraceMs` to return; one that ignores its abort is given up after that (an
 * error, a `singleton-stuck` event, a metric), so neither a new term nor a shutdown waits
 * for it forever. The leader gauge reads 1 only while the term is held, never during the wait.
 */
export class LeaderGuard implements Runnable {
  readonly name: string;
  readonly needsLeadership = false;
  readonly #o: LeaderGuardOptions;
  readonly #backoff: BackoffOptions;
  readonly #logger: LeaderLogger;

  constructor(options: LeaderGuardOptions) {
    this.#o = options;
    this.name = options.name ?? `leader:${options.key.name}`;
    this.#backoff = { ...defaultBackoff, ...options.backoff };
    this.#logger = options.logger ?? silentLogger;
  }

  #emit(event: GuardEvent): void {
    try {
      this.#o.onEvent?.(event);
    } catch (err) {
      this.#logger.error({ err: coerceError(err).message, event: event.type }, 'guard listener threw');
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    const { elector, key } = this.#o;
    const random = this.#o.random ?? Math.random;
    const now = this.#o.now ?? (() => performance.now());
    this.#o.metrics?.following(key.name);
    let failures = 0;
    while (!signal.aborted) {
      let term: LeaderTerm;
      try {
        term = await elector.campaign(key, signal);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        const retryInMs = backoffDelay(failures, this.#backoff, random);
        const error = coerceError(err);
        this.#logger.warn({ key: key.name, err: error.message, retryInMs }, 'campaign failed');
        this.#emit({ type: 'campaign-failed', key: key.name, error, retryInMs });
        await sleep(retryInMs, signal);
        continue;
      }
      const startedAt = now();
      const healthy = await this.#lead(term, signal);
      if (healthy && now() - startedAt >= (this.#o.minHealthyTermMs ?? 1_000)) failures = 0;
      else failures++;
      if (!signal.aborted && failures > 0) await sleep(backoffDelay(failures, this.#backoff, random), signal);
    }
  }

  /** Runs one term to its end; false when the singleton failed or had to be given up. */
  async #lead(term: LeaderTerm, stop: AbortSignal): Promise<boolean> {
    const { elector, key } = this.#o;
    const metrics = this.#o.metrics;
    if (!term.signal.aborted) metrics?.elected(key.name);
    this.#emit({ type: 'elected', key: key.name, epoch: term.epoch });
    const onLost = () => {
      metrics?.deposed(key.name);
      const lost = term.signal.reason;
      const reason = isLeadershipLostError(lost) ? lost.reason : 'lost';
      if (reason !== 'released') this.#emit({ type: 'lost', key: key.name, epoch: term.epoch, reason });
    };
    // A term can be handed over already ended: a listener added now would never fire.
    if (term.signal.aborted) onLost();
    else term.signal.addEventListener('abort', onLost, { once: true });
    const signal = AbortSignal.any([term.signal, stop]);
    let failure: Error | undefined;
    // Through a promise: a singleton that throws before returning one is a failed term like
    // any other, not an escape that leaves the term held.
    const running = Promise.resolve().then(() => this.#o.run(signal, term));
    const returned = await this.#untilReturned(running, signal);
    if (returned === 'stuck') {
      const graceMs = this.#graceMs;
      this.#logger.error({ key: key.name, epoch: term.epoch, graceMs }, 'singleton ignored its abort');
      metrics?.singletonStuck(key.name);
      this.#emit({ type: 'singleton-stuck', key: key.name, epoch: term.epoch, graceMs });
      failure = new Error(`singleton did not stop within ${graceMs} ms`);
    } else if (returned !== undefined && !signal.aborted) {
      failure = returned;
      this.#logger.error({ key: key.name, epoch: term.epoch, err: failure.message }, 'singleton failed');
      this.#emit({ type: 'singleton-failed', key: key.name, epoch: term.epoch, error: failure });
    }
    term.signal.removeEventListener('abort', onLost);
    let reason: string;
    if (term.signal.aborted) {
      const lost = term.signal.reason;
      reason = isLeadershipLostError(lost) ? lost.reason : 'lost';
    } else {
      reason = stop.aborted
        ? 'shutdown'
        : returned === 'stuck'
          ? 'singleton-stuck'
          : failure
            ? 'singleton-failed'
            : 'singleton-returned';
      try {
        await elector.release(term, reason);
      } catch (err) {
        this.#logger.warn({ key: key.name, err: coerceError(err).message }, 'release failed');
      }
    }
    metrics?.ended(key.name, reason);
    this.#emit({ type: 'ended', key: key.name, epoch: term.epoch, reason });
    return failure === undefined && (stop.aborted || reason !== 'singleton-returned');
  }

  get #graceMs(): number {
    return this.#o.singletonStopGraceMs ?? defaultGuardSettings.singletonStopGraceMs;
  }

  /**
   * Waits for the singleton: undefined when it returned, its error when it threw, or
   * `stuck` when it was still running `singletonStopGraceMs` after `signal` aborted.
   */
  async #untilReturned(running: Promise<void>, signal: AbortSignal): Promise<Error | 'stuck' | undefined> {
    const settled = running.then(
      () => undefined,
      (err: unknown) => coerceError(err),
    );
    let timer: NodeJS.Timeout | undefined;
    let arm: (() => void) | undefined;
    const stuck = new Promise<'stuck'>((resolve) => {
      arm = () => {
        timer = setTimeout(() => resolve('stuck'), this.#graceMs);
      };
      if (signal.aborted) arm();
      else signal.addEventListener('abort', arm, { once: true });
    });
    try {
      return await Promise.race([settled, stuck]);
    } finally {
      clearTimeout(timer);
      if (arm) signal.removeEventListener('abort', arm);
    }
  }
}
