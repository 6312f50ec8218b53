import type { Database } from '../../ha/db/database.js';
import { coerceError } from '../../ha/errors.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import { fencedTransaction } from '../../ha/leader/fence.js';
import { LeaderGuard, type LeaderGuardOptions } from '../../ha/leader/guard.js';
import type { Elector, LeaderLogger, LeaderTerm } from '../../ha/leader/port.js';
import type { ControllerDefinition, PassContext, PassResult } from './define.js';
import type { ControllerMetrics } from './metrics.js';
import { recordPass } from './status.js';
import type { WakeSource } from './wake.js';

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
  readonly onPass?: (report: { epoch: number; result?: PassResult; error?: Error }) => void;
}

/** After a failed pass, the first retry delay; doubled per failure up to `resyncMs`. */
const FIRST_RETRY_MS = 100;

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
  const relevant = (kinds: ReadonlySet<string>) =>
    def.wakeOnKinds === undefined || def.wakeOnKinds.some((k) => kinds.has(k));
  let wokenAt: number | undefined;
  let interrupt: (() => void) | undefined;
  // A controller no event wakes does not keep the process's event poller running.
  const listens = def.wakeOnKinds === undefined || def.wakeOnKinds.length > 0;
  const unsubscribe = (listens ? deps.wake : undefined)?.subscribe((kinds) => {
    if (!relevant(kinds)) return;
    wokenAt ??= clock();
    interrupt?.();
  });
  const ctx: PassContext = {
    signal,
    term,
    epoch: term.epoch,
    now: clock,
    db: deps.db,
    fenced: (fn) => fencedTransaction(deps.db, term, fn),
  };
  let dueAt = clock();
  let failures = 0;
  try {
    while (!signal.aborted) {
      wokenAt = undefined;
      const startedAt = clock();
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
      deps.onPass?.({ epoch: term.epoch, ...(result ? { result } : {}), ...(error ? { error } : {}) });
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
      const waitMs = error
        ? Math.min(def.resyncMs, FIRST_RETRY_MS * 2 ** (failures - 1))
        : result?.more
          ? 0
          : Math.min(def.resyncMs, Math.max(1, Math.ceil(result?.nextInMs ?? def.resyncMs)));
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
