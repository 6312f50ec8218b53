// The pipelines controller (docs/controllers.md): follows every run still going in the runner
// backend and writes its state and steps into the run's status as they change, and keeps each
// pipeline's newest `keepRuns` finished runs, deleting older ones (their logs go with them in
// the backend) through the resource service. Every write inside the term's fenced transaction.

import { isDeepStrictEqual } from 'node:util';
import type { ResourceService } from '../../control/service.js';
import { toResource } from '../../control/store.js';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { RunnerPort } from '../../core/ports/runner.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { outputsOfRun, type PipelineRunOutputs } from '../../kinds/pipeline-runs/index.js';
import { DEFAULT_KEEP_RUNS } from '../../kinds/pipelines/index.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';

const SQL = {
  unfinished: loadText(new URL('./sql/unfinished-runs.sql', import.meta.url)),
  write: loadText(new URL('./sql/write-run.sql', import.meta.url)),
  expired: loadText(new URL('./sql/expired-runs.sql', import.meta.url)),
};

/** Options of {@link pipelinesController}. */
export interface PipelinesOptions {
  readonly leaderKey: LeaderKey;
  /** Old runs are deleted through it, inside the fence. */
  readonly service: ResourceService;
  /** For reads only. */
  readonly runner: RunnerPort;
  /** Default 2 s: how stale a run's state may get while nothing wakes the controller. */
  readonly resyncMs?: number;
  /** Deletions per pass; default 100. */
  readonly batch?: number;
}

/** What of a run's outputs the controller owns: where the run stands. */
function progress(o: PipelineRunOutputs): Partial<PipelineRunOutputs> {
  return {
    state: o.state,
    steps: o.steps,
    ...(o.finishedAt === undefined ? {} : { finishedAt: o.finishedAt }),
  };
}

export function pipelinesController(options: PipelinesOptions): ControllerDefinition {
  const { service, runner } = options;
  const batch = options.batch ?? 100;
  return defineController({
    name: 'pipelines',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 2_000,
    wakeOnKinds: ['pipeline-runs', 'pipelines'],
    async pass(ctx) {
      const going = (await ctx.db.query(SQL.unfinished)).rows.map(toResource);
      let failed: unknown;
      for (const run of going) {
        if (ctx.signal.aborted) break;
        const recorded = run.status.outputs as PipelineRunOutputs;
        try {
          const now = progress(outputsOfRun(await runner.getRun(recorded.backendId, { signal: ctx.signal })));
          if (isDeepStrictEqual(now, progress(recorded))) continue;
          await ctx.fenced((tx) => tx.query(SQL.write, [run.id, JSON.stringify(now)]));
        } catch (err) {
          // A run gone from the backend is its reconcile pass's to find; one run's trouble
          // does not stop the others.
          if (isStaleEpochError(err)) throw err;
          if (!isNotFoundError(err)) failed ??= err;
        }
      }
      const expired = (await ctx.db.query(SQL.expired, [DEFAULT_KEEP_RUNS, batch])).rows as {
        id: string;
        tenant: string;
      }[];
      for (const run of expired) {
        if (ctx.signal.aborted) break;
        try {
          await ctx.fenced((tx) => service.delete(run.tenant, 'pipeline-runs', run.id, { tx }));
        } catch (err) {
          if (isStaleEpochError(err)) throw err;
          failed ??= err;
        }
      }
      if (expired.length > 0) service.wakeRelays();
      if (failed !== undefined) throw failed;
      // A run still going is due again soon: its steps move on by themselves.
      return { more: expired.length === batch, ...(going.length > 0 ? { nextInMs: 500 } : {}) };
    },
  });
}
