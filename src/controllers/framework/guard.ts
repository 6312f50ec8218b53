import type { Database } from '../../ha/db/database.js';
import { coerceError } from '../../ha/errors.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import { fencedTransaction } from '../../ha/leader/fence.js';
import { LeaderGuard, type LeaderGuardOptions } from '../../ha/leader/guard.js';
import type { Elector, LeaderLogger, LeaderTerm } from '../../ha/leader/port.js';
import type { ControllerDefinition, PassChanges, PassContext, PassResult } from './define.js';
import type { ControllerMetrics } from './metrics.js';
import { recordPass } from './status.js';
import type { WakeBatch, WakeSource } from './wake.js';

/** What running a controller needs from its process. */
export interface ControllerDeps {
  readonly db: Database;
  readonly elector: Elector;
  readonly logger: LeaderLogger;
  readonly metrics?: ControllerMetrics;
  /** Wakes a pass on resource events; without one, passes run every `resyncMs` only. */
  readonly wake?: WakeSource;
  /** Ms since the Unix epoch; default `Date.now`. Passes and reports read it. */
  readonly clock?: () => number;
  /** Options of the key's guard (backoff, stop grace, metrics, events). */
  readonly guard?: Omit<LeaderGuardOptions, 'elector' | 'key' | 'run'>;
  /** Told of every finished pass (tests). */
  readonly onPass?: (report: { epoch: number; scoped: boolean; result?: PassResult; error?: Error }) => void;
}

/** After a failed pass, the first retry delay; doubled per failure up to `resyncMs`. */
const FIRST_RETRY_MS = 100;

/** Changed resources a scoped pass is given at most; beyond them the pass is a full one. */
export const MAX_PASS_CHANGES = 1_000;

/** The changes heard since the last pass began. */
class PendingChanges {
  readonly byKind = new Map<string, Set<string>>();
  readonly owners = new Set<string>();
  count = 0;

  add(batch: WakeBatch, wanted: (kind: string) => boolean): void {
    for (const r of batch.resources) {
      if (!wanted(r.kind) || this.count > MAX_PASS_CHANGES) continue;
      let ids = this.byKind.get(r.kind);
      if (ids === undefined) {
        ids = new Set();
        this.byKind.set(r.kind, ids);
      }
      if (!ids.has(r.id)) {
        ids.add(r.id);
        this.count++;
      }
      if (r.owner !== undefined) this.owners.add(r.owner);
    }
  }

  get overflowed(): boolean {
    return this.count > MAX_PASS_CHANGES;
  }

  get changes(): PassChanges {
    return { byKind: this.byKind, owners: this.owners };
  }
}

/**
 * Runs a controller under the guard of its key: while this process leads, a pass runs at once,
 * then again on a relevant event, at every `resyncMs`, and at once while a pass says `more`.
 * Every pass is reported (metrics, and its row in stratus_controllers). A pass refused by the
 * fence means the term is over: the loop returns and the guard campaigns again.
 */
export function controllerGuard(def: ControllerDefinition, deps: ControllerDeps): LeaderGuard {
  return new LeaderGuard({
    name: `controller:${def.name}`,
    ...deps.guard,
    elector: deps.elector,
    key: def.leaderKey,
    run: (signal, term) => runTerm(def, deps, signal, term),
  });
}

async function runTerm(
  def: ControllerDefinition,
  deps: ControllerDeps,
  signal: AbortSignal,
  term: LeaderTerm,
): Promise<void> {
  const clock = deps.clock ?? Date.now;
  const wanted = (kind: string) => def.wakeOnKinds === undefined || def.wakeOnKinds.includes(kind);
  const relevant = (kinds: ReadonlySet<string>) => [...kinds].some(wanted);
  let wokenAt: number | undefined;
  let pending = new PendingChanges();
  let interrupt: (() => void) | undefined;
  // Told when changes are heard (serveChangesWhile waits on it).
  let heard: (() => void) | undefined;
  // A controller no event wakes does not keep the process's event poller running.
  const listens = def.wakeOnKinds === undefined || def.wakeOnKinds.length > 0;
  const unsubscribe = (listens ? deps.wake : undefined)?.subscribe((batch) => {
    if (!relevant(batch.kinds)) return;
    pending.add(batch, wanted);
    wokenAt ??= clock();
    interrupt?.();
    heard?.();
  });
  const base: PassContext = {
    signal,
    term,
    epoch: term.epoch,
    now: clock,
    db: deps.db,
    fenced: (fn) => fencedTransaction(deps.db, term, fn),
  };
  // When the last full pass began; a pass may be scoped to the changes only after one that
  // ended well, and only until `resyncMs` after it.
  let fullAt: number | undefined;
  let scopable = false;
  // Inside a full pass: the changes heard so far get a scoped pass of their own at once (not
  // when they overflowed: those wait for the next full pass, which covers them).
  const yieldToChanges = async () => {
    if (signal.aborted || wokenAt === undefined || pending.count === 0 || pending.overflowed) return;
    const changes = pending.changes;
    pending = new PendingChanges();
    wokenAt = undefined;
    const t0 = performance.now();
    let outcome: 'ok' | 'error' = 'ok';
    try {
      await def.pass({ ...base, changes });
    } catch (err) {
      outcome = 'error';
      throw err;
    } finally {
      deps.metrics?.passed(def.name, (performance.now() - t0) / 1000, outcome);
    }
  };
  const serveChangesWhile = async <T>(work: Promise<T>): Promise<T> => {
    let settled = false;
    const ended = work.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    while (!settled && !signal.aborted) {
      if (wokenAt !== undefined && pending.count > 0 && !pending.overflowed) {
        await yieldToChanges();
        continue;
      }
      await Promise.race([ended, new Promise<void>((resolve) => (heard = resolve))]);
      heard = undefined;
    }
    return work;
  };
  let dueAt = clock();
  let failures = 0;
  try {
    while (!signal.aborted) {
      const startedAt = clock();
      const scoped =
        scopable &&
        wokenAt !== undefined &&
        fullAt !== undefined &&
        startedAt - fullAt < def.resyncMs &&
        // A wake that named kinds but no resources (a hand-fired one) says nothing to scope to.
        pending.count > 0 &&
        !pending.overflowed;
      const ctx: PassContext = scoped
        ? { ...base, changes: pending.changes }
        : { ...base, yieldToChanges, serveChangesWhile };
      if (!scoped) fullAt = startedAt;
      // Changes heard before a full pass stay waiting for it to yield to them (or for the pass
      // after it), so they are not held up behind its pages; the first pass of a term, one after
      // a failure and one after an overflow cover them instead.
      if (scoped || !scopable || pending.overflowed || pending.count === 0) {
        wokenAt = undefined;
        pending = new PendingChanges();
      }
      let result: PassResult | undefined;
      let error: Error | undefined;
      const t0 = performance.now();
      try {
        result = (await def.pass(ctx)) ?? undefined;
      } catch (err) {
        error = coerceError(err);
      }
      const seconds = (performance.now() - t0) / 1000;
      const endedAt = clock();
      deps.metrics?.passed(def.name, seconds, error ? 'error' : 'ok');
      if (error && !signal.aborted)
        deps.logger.warn(
          { controller: def.name, epoch: term.epoch, err: error.message },
          'controller pass failed',
        );
      deps.onPass?.({
        epoch: term.epoch,
        scoped,
        ...(result ? { result } : {}),
        ...(error ? { error } : {}),
      });
      await recordPass(deps.db, {
        controller: def.name,
        leader: term.nodeId,
        epoch: term.epoch,
        startedAt,
        endedAt,
        lagMs: result?.lagMs ?? Math.max(0, startedAt - dueAt),
        error: error?.message,
      }).catch((err: unknown) =>
        deps.logger.warn({ controller: def.name, err: coerceError(err).message }, 'could not record a pass'),
      );
      // Refused by the fence: this term is over, whatever the elector believes yet.
      if (error && isStaleEpochError(error)) return;
      failures = error ? failures + 1 : 0;
      // A failed pass, or one that stopped at a bound, is followed by a full one.
      scopable = !error && !result?.more;
      const waitMs = error
        ? Math.min(def.resyncMs, FIRST_RETRY_MS * 2 ** (failures - 1))
        : result?.more
          ? 0
          : Math.max(
              1,
              Math.ceil(
                // After a scoped pass, the next full one is due `resyncMs` after the last full one
                // began; after a full one, `resyncMs` after it ended.
                Math.min(
                  scoped ? def.resyncMs - (endedAt - (fullAt ?? endedAt)) : def.resyncMs,
                  result?.nextInMs ?? def.resyncMs,
                ),
              ),
            );
      if (waitMs > 0 && wokenAt === undefined) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            interrupt = undefined;
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          signal.addEventListener('abort', done, { once: true });
          interrupt = done;
        });
      }
      dueAt = wokenAt ?? (waitMs > 0 ? endedAt + waitMs : endedAt);
    }
  } finally {
    unsubscribe?.();
  }
}
