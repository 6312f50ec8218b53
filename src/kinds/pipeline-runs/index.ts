// pipeline-runs: one run of a pipeline's stages on the runner backend, with each step's state
// and log. Started by its reconcile pass with the pipeline's stages as they are then; followed
// by the pipelines controller (src/controllers/pipelines), which writes `state` and `steps` as
// the run goes; canceled by the `cancel` action; deleted with its logs.

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { Run, RunnerPort } from '../../core/ports/runner.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import { ReconcileError } from '../../core/resources/reconcile-error.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';
import type { PipelineSpec } from '../pipelines/index.js';

/** How a run was started. */
export const TRIGGERS = ['manual', 'webhook', 'cron'] as const;

/** What a user asks for. */
export const PipelineRunSpec = Type.Object(
  {
    pipeline: Type.String({ maxLength: 64, description: 'id of one of your pipelines' }),
    trigger: Type.Optional(
      Type.Union(
        TRIGGERS.map((t) => Type.Literal(t)),
        { description: 'how it was started; default manual (webhook and cron runs say so themselves)' },
      ),
    ),
    canceled: Type.Optional(Type.Boolean({ description: 'set by the cancel action' })),
  },
  { additionalProperties: false },
);

const State = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('canceled'),
  Type.Literal('skipped'),
]);

/** What the reconciler and the pipelines controller report. */
export const PipelineRunOutputs = Type.Object(
  {
    backendId: Type.String(),
    state: State,
    steps: Type.Array(
      Type.Object(
        {
          stage: Type.String(),
          step: Type.String(),
          state: State,
          startedAt: Type.Optional(Type.String()),
          finishedAt: Type.Optional(Type.String()),
          exitCode: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
    startedAt: Type.String(),
    finishedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof PipelineRunSpec>;
export type PipelineRunOutputs = Type.Static<typeof PipelineRunOutputs>;

/** A run's states that do not change any more. */
export const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The outputs of a run as the backend reports it. */
export function outputsOfRun(run: Run): PipelineRunOutputs {
  return {
    backendId: run.id,
    state: run.state,
    steps: run.steps.map((s) => ({
      stage: s.stage,
      step: s.step,
      state: s.state,
      ...(s.startedAt === undefined ? {} : { startedAt: iso(s.startedAt)! }),
      ...(s.finishedAt === undefined ? {} : { finishedAt: iso(s.finishedAt)! }),
      ...(s.exitCode === undefined ? {} : { exitCode: s.exitCode }),
    })),
    startedAt: iso(run.createdAt)!,
    ...(run.finishedAt === undefined ? {} : { finishedAt: iso(run.finishedAt)! }),
  };
}

function runDriver(runner: RunnerPort): Driver<Spec, PipelineRunOutputs> {
  const mutation = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const find = (r: Resource<Spec, PipelineRunOutputs>, ctx: DriverContext) =>
    findBackend<Run>(r, ctx, {
      get: (id, opts) => runner.getRun(id, opts),
      list: (query) => runner.listRuns(query),
    });
  return {
    async observe(r, ctx) {
      const run = await find(r, ctx);
      if (!run) return { exists: false };
      // A cancel asked for is done once the run is over, by the cancel or by itself.
      const upToDate = !r.spec.canceled || FINISHED.has(run.state);
      return { exists: true, upToDate, outputs: outputsOfRun(run) };
    },
    async create(r, ctx) {
      const pipeline = await ctx.reference('pipeline');
      if (!pipeline) throw new ReconcileError('DependencyNotReady', `pipeline ${r.spec.pipeline} is gone`);
      const spec = pipeline.spec as unknown as PipelineSpec;
      const run = await runner.startRun(
        { source: `pipeline-runs/${r.id}`, stages: spec.stages, labels: backendLabels(r.id) },
        mutation(ctx),
      );
      if (r.spec.canceled) return outputsOfRun(await runner.cancelRun(run.id, mutation(ctx)));
      return outputsOfRun(run);
    },
    async update(r, observed, ctx) {
      if (!r.spec.canceled || FINISHED.has(observed.state)) return observed;
      return outputsOfRun(await runner.cancelRun(observed.backendId, mutation(ctx)));
    },
    async delete(_r, observed, ctx) {
      await runner.deleteRun(observed.backendId, mutation(ctx)).catch((err: unknown) => {
        if (!isNotFoundError(err)) throw err;
      });
    },
  };
}

/** The pipeline-runs kind. */
export const pipelineRuns = defineKind({
  name: 'pipeline-runs',
  idPrefix: 'plr',
  spec: PipelineRunSpec,
  outputs: PipelineRunOutputs,
  // A reference: deleting a pipeline with runs is a 409 naming them (unless cascading).
  references: [{ field: 'pipeline', kind: 'pipelines' }],
  immutable: ['pipeline', 'trigger'],
  actions: {
    cancel: {
      description: 'Stop the run where it stands (a finished run: 200, nothing to do)',
      apply: (spec, _body, run) =>
        FINISHED.has((run.status.outputs as { state?: string } | undefined)?.state ?? '')
          ? { spec }
          : { spec: { ...spec, canceled: true } },
    },
  },
  driver: (ports) => runDriver(ports.runner),
});
