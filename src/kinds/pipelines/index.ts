// pipelines: stages of steps run on the runner backend. A pipeline is a definition; each run is
// a pipeline-runs resource (src/kinds/pipeline-runs), started by hand (`POST /v1/pipeline-runs`),
// by a signed webhook (`POST /v1/hooks/pipelines/:id`) or by a cron job. The pipelines
// controller (src/controllers/pipelines) follows the runs and keeps the newest `keepRuns` of
// each pipeline, deleting older ones with their logs. A composite kind: the pipeline itself has
// nothing in the backend.

import Type from 'typebox';
import type { FieldError } from '../../core/resources/field-error.js';
import { defineKind } from '../../core/resources/kind.js';
import { compositeDriver } from '../composite.js';

/** The most runs a pipeline keeps. */
export const MAX_KEEP_RUNS = 1_000;
/** Runs kept when the spec does not say. */
export const DEFAULT_KEEP_RUNS = 50;

const Label = (description: string) =>
  Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description });

/** One step: commands run in order in a container of `image`. */
export const StepSpec = Type.Object(
  {
    name: Label('unique in its stage; its log is `<stage>/<step>`'),
    image: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[a-z0-9][-a-z0-9._:/]*$',
      description: 'the container image the step runs in, e.g. node:20',
    }),
    commands: Type.Array(Type.String({ minLength: 1, maxLength: 4_096 }), {
      minItems: 1,
      maxItems: 100,
      description: 'run in order; the first to fail fails the step',
    }),
  },
  { additionalProperties: false },
);

/** What a user asks for. */
export const PipelineSpec = Type.Object(
  {
    stages: Type.Array(
      Type.Object(
        {
          name: Label('unique in the pipeline'),
          steps: Type.Array(StepSpec, { minItems: 1, maxItems: 20, description: 'run side by side' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20, description: 'run one after the other; a failed one skips the rest' },
    ),
    keepRuns: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_KEEP_RUNS,
        description: `finished runs kept, newest first, with their logs; default ${DEFAULT_KEEP_RUNS}`,
      }),
    ),
  },
  { additionalProperties: false },
);

export type PipelineSpec = Type.Static<typeof PipelineSpec>;

/** Names must be unique: a stage's in the pipeline, a step's in its stage. */
export function checkNames(spec: PipelineSpec): FieldError[] {
  const out: FieldError[] = [];
  const stages = new Map<string, number>();
  spec.stages.forEach((stage, i) => {
    const first = stages.get(stage.name);
    if (first !== undefined)
      out.push({ path: `/spec/stages/${i}/name`, message: `is also stage ${first}'s name` });
    else stages.set(stage.name, i);
    const steps = new Map<string, number>();
    stage.steps.forEach((step, j) => {
      const before = steps.get(step.name);
      if (before !== undefined)
        out.push({ path: `/spec/stages/${i}/steps/${j}/name`, message: `is also step ${before}'s name` });
      else steps.set(step.name, j);
    });
  });
  return out;
}

/** The pipelines kind. */
export const pipelines = defineKind({
  name: 'pipelines',
  idPrefix: 'pl',
  spec: PipelineSpec,
  outputs: Type.Object({}, { additionalProperties: false }),
  validate: checkNames,
  driver: () => compositeDriver(),
});
