// cron-jobs: an HTTP call made on a schedule. The `cron` controller (src/controllers/cron) fires
// each slot exactly once across failovers; this kind holds what the user wants and reports the
// next slot. It has no backend resource of its own: its calls go through the webhook port.
// (A pipeline run as target waits for the pipelines kind.)

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
    method: Type.Union(
      ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)),
      { description: 'HTTP method' },
    ),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'absolute http or https URL' }),
    body: Type.Optional(Type.String({ maxLength: 65_536, description: 'request body, as text' })),
  },
  { additionalProperties: false },
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
  let url: URL | undefined;
  try {
    url = new URL(spec.target.url);
  } catch {}
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    errors.push({ path: '/spec/target/url', message: 'must be an absolute http or https URL' });
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
