// A cron job's schedule: a cron expression read by croner, in an IANA time zone. croner is
// maintained, has no dependencies, takes a seconds field (6 fields) and converts through
// `Intl`, so a wall-clock schedule follows daylight saving time (a 02:30 slot on a spring-
// forward day fires at 03:00, once; on a fall-back day once, not twice).

import { Cron } from 'croner';
import type { FieldError } from '../../core/resources/field-error.js';

/** The time zone of a cron job without one. */
export const DEFAULT_TIME_ZONE = 'UTC';

/** A parsed schedule. */
export interface Schedule {
  /** The slots in `(after, upTo]`, at most the last `limit` of them, oldest first. */
  lastSlots(after: number, upTo: number, limit: number): number[];
  /** The first slot after `at`, or undefined when the expression has none left. */
  nextSlot(at: number): number | undefined;
}

/** Why an expression or a zone cannot be a schedule, in a client's words. */
export function scheduleErrors(expression: string, timeZone: string | undefined): FieldError[] {
  const errors: FieldError[] = [];
  if (timeZone !== undefined && !isTimeZone(timeZone))
    errors.push({
      path: '/spec/timeZone',
      message: `must be an IANA time zone (e.g. Europe/Berlin), not ${JSON.stringify(timeZone)}`,
    });
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    errors.push({
      path: '/spec/schedule',
      message: `must be a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), not ${fields}`,
    });
    return errors;
  }
  try {
    new Cron(expression, { paused: true, timezone: DEFAULT_TIME_ZONE });
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, '');
    errors.push({ path: '/spec/schedule', message: `is not a cron expression: ${reason}` });
  }
  return errors;
}

/** True for a zone `Intl` knows (`UTC`, `Europe/Berlin`); false for `Mars/Base` or `+02:00`. */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schedule of a valid expression and zone (checked by {@link scheduleErrors}). */
export function scheduleOf(expression: string, timeZone: string = DEFAULT_TIME_ZONE): Schedule {
  const cron = new Cron(expression, { paused: true, timezone: timeZone });
  return {
    lastSlots(after, upTo, limit) {
      if (!(upTo > after) || limit <= 0) return [];
      // croner's previous runs are strictly before the reference: + 1 ms keeps `upTo` itself.
      return cron
        .previousRuns(limit, new Date(upTo + 1))
        .map((d) => d.getTime())
        .filter((t) => t > after)
        .reverse();
    },
    nextSlot(at) {
      return cron.nextRun(new Date(at))?.getTime();
    },
  };
}
