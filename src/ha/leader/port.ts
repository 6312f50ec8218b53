/**
 * The elector port: campaign for a leadership key, hold it as a term with an epoch, give it
 * up. Two adapters implement it: PostgreSQL advisory locks (`pg-elector.ts`, for every
 * multi-replica deployment) and an in-process one (`memory-elector.ts`, for the embedded
 * single-process mode and unit tests). Neither knows what the leader does.
 */
import type { LeaderKey } from './keys.js';
import type { FenceSettings } from './settings.js';

/** What a fenced write carries: which key it acts for, under which epoch. */
export interface Fence {
  /** The key's name (for errors and logs). */
  readonly key: string;
  /** The key's registered integer id. */
  readonly keyId: number;
  /** The epoch of the term the write is made under. */
  readonly epoch: number;
  /** Bounds of the fenced transactions made under it (default `defaultFenceSettings`). */
  readonly bounds?: Readonly<FenceSettings>;
}

/** One term of leadership of one key by this process. */
export interface LeaderTerm extends Fence {
  /** The node that holds the term. */
  readonly nodeId: string;
  /** When the term began, by the database's clock. */
  readonly acquiredAt: Date;
  /**
   * Aborts the moment the elector stops believing in the term (demotion, session error,
   * release); its `reason` is a `LeadershipLostError`.
   */
  readonly signal: AbortSignal;
  /**
   * True while the term has not ended and its lock was confirmed within the renew deadline
   * (monotonic clock). A check to skip work early; fencing is what makes writes safe.
   */
  isCurrent(): boolean;
}

export interface Elector {
  /** This process's node id, recorded as the holder of its terms. */
  readonly nodeId: string;
  /**
   * Waits until this process leads `key`, then resolves with the new term. Rejects with the
   * signal's reason when `signal` aborts, or with an error when the campaign fails (the
   * caller backs off and campaigns again). A key may have one campaign or term at a time.
   */
  campaign(key: LeaderKey, signal: AbortSignal): Promise<LeaderTerm>;
  /**
   * Gives the term up at once so a peer can take over without waiting for any timeout, and
   * records `reason` in the journal. Idempotent; a term already lost is a no-op.
   */
  release(term: LeaderTerm, reason: string): Promise<void>;
  /** Releases every term, stops every campaign and closes the sessions. Idempotent. */
  close(): Promise<void>;
}

/** A pino-compatible logger: `(obj, msg)`. */
export interface LeaderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Logs nothing. */
export const silentLogger: LeaderLogger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};
