import type { Database, Queryable } from '../../ha/db/database.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import type { LeaderTerm } from '../../ha/leader/port.js';

/** What one pass of a controller is given: all of it belongs to one term of its key. */
export interface PassContext {
  /** Aborts when the term ends or the process stops: the pass returns soon after. */
  readonly signal: AbortSignal;
  /** The term the pass runs under; hand `term.epoch` to backends. */
  readonly term: LeaderTerm;
  readonly epoch: number;
  /** The injected clock (ms since the Unix epoch). */
  now(): number;
  /**
   * Runs `fn` in one transaction fenced by the term: refused (`StaleEpochError`, nothing
   * written) once a newer term began or this one's lock was lost. Every write goes through it.
   */
  fenced<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** For reads; a write outside `fenced` is a bug. */
  readonly db: Database;
}

/** What a pass may say of itself. */
export interface PassResult {
  /** How far behind the world the controller's state is after this pass (ms); shown as lag. */
  readonly lagMs?: number;
  /** The pass stopped at a batch bound: run the next one at once, not at the next wake. */
  readonly more?: boolean;
  /**
   * When the controller is due again by its own clock (cron: the next slot), in ms from now:
   * the next pass runs then if that is sooner than `resyncMs`.
   */
  readonly nextInMs?: number;
}

/** A level-based singleton controller: `pass` converges the world from what it reads, every time. */
export interface ControllerDefinition {
  /** Appears in logs, metrics and `/v1/system/controllers`. */
  readonly name: string;
  readonly leaderKey: LeaderKey;
  /** The longest time between two passes with nothing waking it. */
  readonly resyncMs: number;
  /**
   * Which resource events wake a pass, by kind (every event when absent, none when empty).
   * A missed wake costs at most `resyncMs`: passes are level-based.
   */
  readonly wakeOnKinds?: readonly string[];
  pass(ctx: PassContext): Promise<PassResult | undefined>;
}

/** Declares a controller; the framework (`controllerGuard`) runs it under its key's guard. */
export function defineController(definition: ControllerDefinition): ControllerDefinition {
  if (!(definition.resyncMs > 0)) throw new RangeError(`controller ${definition.name}: resyncMs must be > 0`);
  return Object.freeze({ ...definition });
}
