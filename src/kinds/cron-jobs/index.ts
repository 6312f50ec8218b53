// cron-jobs: an HTTP call made, or a pipeline run started, on a schedule. The `cron` controller
// (src/controllers/cron) fires each slot exactly once across failovers; this kind holds what the
// user wants and reports the next slot. It has no backend resource of its own: its calls go
// through the webhook port, its runs are pipeline-runs resources.

import Type from 'typebox';
import type { FieldError } from '../../core/resources/field-error.js';
import { type Driver, defineKind } from '../../core/resources/kind.js';
import { DEFAULT_TIME_ZONE, scheduleErrors, scheduleOf } from './schedule.js';

export { DEFAULT_TIME_ZONE, isTimeZone, type Schedule, scheduleErrors, scheduleOf } from './schedule.js';

/** Missed slots caught up at most, by default, under `catch-up`. */
export const DEFAULT_MAX_CATCH_UP = 10;

/** The call a slot makes. */
export const CronTarget = Type.Object(
  {
    method: Type.Optional(
      Type.Union(
        ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)),
        { description: 'HTTP method (with url)' },
      ),
    ),
    url: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: 'absolute http or https URL to call' }),
    ),
    body: Type.Optional(Type.String({ maxLength: 65_536, description: 'request body, as text (with url)' })),
    pipeline: Type.Optional(
      Type.String({ maxLength: 64, description: 'id of one of your pipelines to run (instead of a url)' }),
    ),
  },
  { additionalProperties: false, description: 'a call (method and url) or a pipeline run (pipeline)' },
);

/** What a user asks for. */
export const CronJobSpec = Type.Object(
  {
    schedule: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first',
    }),
    timeZone: Type.Optional(
      Type.String({
        maxLength: 64,
        description: `IANA time zone the schedule is read in; default ${DEFAULT_TIME_ZONE}`,
      }),
    ),
    target: CronTarget,
    missedSlots: Type.Optional(
      Type.Union([Type.Literal('skip'), Type.Literal('catch-up')], {
        description:
          'slots that came due while no controller ran: skip them (default), or fire the last maxCatchUp of them',
      }),
    ),
    maxCatchUp: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: `missed slots fired at most under catch-up; default ${DEFAULT_MAX_CATCH_UP}`,
      }),
    ),
    paused: Type.Optional(
      Type.Boolean({ description: 'default false; changed by the pause and resume actions' }),
    ),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const CronJobOutputs = Type.Object(
  {
    nextSlot: Type.Union([Type.String(), Type.Null()], {
      description: 'the next slot after the last reconcile (null while paused)',
    }),
  },
  { additionalProperties: false },
);

export type CronJobSpecT = Type.Static<typeof CronJobSpec>;
type Outputs = Type.Static<typeof CronJobOutputs>;

function checkSpec(spec: CronJobSpecT): FieldError[] {
  const errors = scheduleErrors(spec.schedule, spec.timeZone);
  const t = spec.target;
  if (t.pipeline !== undefined) {
    for (const field of ['method', 'url', 'body'] as const)
      if (t[field] !== undefined)
        errors.push({ path: `/spec/target/${field}`, message: 'must be absent with a pipeline target' });
  } else {
    let url: URL | undefined;
    try {
      url = t.url === undefined ? undefined : new URL(t.url);
    } catch {}
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      errors.push({
        path: '/spec/target/url',
        message: 'must be an absolute http or https URL (or give a pipeline instead)',
      });
    if (t.method === undefined)
      errors.push({ path: '/spec/target/method', message: 'is required with a url' });
  }
  if (spec.maxCatchUp !== undefined && spec.missedSlots !== 'catch-up')
    errors.push({ path: '/spec/maxCatchUp', message: 'applies only with missedSlots catch-up' });
  return errors;
}

// Nothing to create in a backend: a reconcile only reports the next slot.
const driver: Driver<CronJobSpecT, Outputs> = {
  async observe() {
    return { exists: false };
  },
  async create(r) {
    const next = r.spec.paused
      ? undefined
      : scheduleOf(r.spec.schedule, r.spec.timeZone).nextSlot(Date.now());
    return { nextSlot: next === undefined ? null : new Date(next).toISOString() };
  },
  async update(_r, observed) {
    return observed;
  },
  async delete() {},
};

/** The cron-jobs kind. */
export const cronJobs = defineKind({
  name: 'cron-jobs',
  idPrefix: 'cron',
  spec: CronJobSpec,
  outputs: CronJobOutputs,
  // A pipeline target is a reference: deleting the pipeline is a 409 naming the job.
  references: [{ field: 'target/pipeline', kind: 'pipelines' }],
  // paused changes through the actions only.
  immutable: ['paused'],
  validate: checkSpec,
  actions: {
    pause: {
      description: 'Stop firing slots until resumed (already paused: 200, nothing to do)',
      apply: (spec) => ({ spec: { ...spec, paused: true } }),
    },
    resume: {
      description:
        'Fire slots again from now on; slots of the pause are not caught up (already running: 200)',
      apply: (spec) => {
        const { paused: _, ...rest } = spec;
        return { spec: rest };
      },
    },
  },
  driver: () => driver,
});
