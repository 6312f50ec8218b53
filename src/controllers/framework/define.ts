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
  /**
   * The resources that changed since the previous pass began, when events woke this pass and
   * the last full pass is younger than `resyncMs`: the pass may converge only what they touch
   * (or ignore them and converge everything). Absent: converge everything — the first pass of a
   * term, a resync, a retry after a failure, after `more`, or too many changes to list.
   */
  readonly changes?: PassChanges;
  /**
   * In a full pass run by the guard: when changes are waiting, runs a pass scoped to them now
   * and returns once it has. A full pass that works in pages calls it between pages, so a
   * change does not wait for the whole world; each page reads what it converges afresh.
   */
  readonly yieldToChanges?: () => Promise<void>;
  /**
   * In a full pass run by the guard: while `work` runs, every change heard gets a pass scoped to
   * it at once (one after another), beside `work`; resolves as `work` does, once the scoped
   * pass in flight has ended. For a full pass whose reads take long in one piece: a change heard
   * meanwhile does not wait for them. Scoped passes then run beside the full one, so the full
   * pass must not write what they converged from its older reads.
   */
  readonly serveChangesWhile?: <T>(work: Promise<T>) => Promise<T>;
}

/** What changed since the previous pass began (of the kinds that wake the controller). */
export interface PassChanges {
  /** The ids of the changed resources, by kind. */
  readonly byKind: ReadonlyMap<string, ReadonlySet<string>>;
  /** The owners of the changed resources (before and after the change). */
  readonly owners: ReadonlySet<string>;
}

/** The ids of `kind` in `changes` (none when absent). */
export function changedIds(changes: PassChanges, kind: string): ReadonlySet<string> {
  return changes.byKind.get(kind) ?? EMPTY;
}

const EMPTY: ReadonlySet<string> = new Set();

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
