// Which slots of one cron job a pass fires, from the job's spec, its watermark and the clock:
// pure, so the policy is tested with an injected clock and no database.
//
// A slot is due once its time has come. Due slots that came due before the current term
// began were missed (no controller fired them: the previous leader died or hung first); the
// policy decides those: `skip` passes over them, `catch-up` fires the last `maxCatchUp`. Every
// slot that comes due while the term runs is fired, however late its pass is.

import { DEFAULT_MAX_CATCH_UP, DEFAULT_TIME_ZONE, scheduleOf } from '../../kinds/cron-jobs/index.js';

/** What the plan reads of a job's spec. */
export interface PlannedJob {
  readonly schedule: string;
  readonly timeZone?: string | undefined;
  readonly missedSlots?: 'skip' | 'catch-up' | undefined;
  readonly maxCatchUp?: number | undefined;
  readonly paused?: boolean | undefined;
  /** When the job was created (ms): slots start after it. */
  readonly createdAt: number;
  /** Its last write (ms): a resume or a new schedule starts after it. */
  readonly updatedAt: number;
}

/** A job's watermark as the last pass left it. */
export interface Cursor {
  /** Every slot up to here is decided (fired or passed over). */
  readonly decidedTo: number;
  readonly schedule: string;
  readonly timeZone: string;
  readonly paused: boolean;
}

/** One pass's decision for one job. */
export interface Plan {
  /** The slots to record and fire, oldest first; `caughtUp` when missed and fired by catch-up. */
  readonly fire: readonly { readonly slot: number; readonly caughtUp: boolean }[];
  /** The new watermark. */
  readonly decidedTo: number;
  /** Slots passed over by this pass. */
  readonly skipped: number;
  /** The plan stopped at `maxPerPass`: more slots are due. */
  readonly more: boolean;
  /** The next slot after the watermark (undefined while paused or when the schedule ends). */
  readonly nextSlot: number | undefined;
}

/** Slots counted at most when passing over a long outage (a per-second schedule: 28 hours). */
const COUNT_CAP = 100_000;

/**
 * Plans one job's pass at `now`, in a term that began at `termStart`, firing at most
 * `maxPerPass` slots.
 */
export function planSlots(
  job: PlannedJob,
  cursor: Cursor | undefined,
  now: number,
  termStart: number,
  maxPerPass: number,
): Plan {
  const timeZone = job.timeZone ?? DEFAULT_TIME_ZONE;
  if (job.paused) return { fire: [], decidedTo: now, skipped: 0, more: false, nextSlot: undefined };
  const schedule = scheduleOf(job.schedule, timeZone);
  let from = cursor?.decidedTo ?? job.createdAt;
  // Resumed, or given another schedule: the slots start from the change.
  if (cursor && (cursor.paused || cursor.schedule !== job.schedule || cursor.timeZone !== timeZone))
    from = Math.max(from, job.updatedAt);
  const fire: { slot: number; caughtUp: boolean }[] = [];
  let skipped = 0;
  const missedUpTo = Math.min(now, termStart);
  if (missedUpTo > from) {
    const keep = job.missedSlots === 'catch-up' ? (job.maxCatchUp ?? DEFAULT_MAX_CATCH_UP) : 0;
    const caught = schedule.lastSlots(from, missedUpTo, Math.min(keep, maxPerPass));
    let missed = 0;
    for (let s = schedule.nextSlot(from); s !== undefined && s <= missedUpTo && missed < COUNT_CAP; ) {
      missed++;
      s = schedule.nextSlot(s);
    }
    skipped = Math.max(0, missed - caught.length);
    for (const slot of caught) fire.push({ slot, caughtUp: true });
    from = missedUpTo;
  }
  let more = false;
  for (let s = schedule.nextSlot(from); s !== undefined && s <= now; s = schedule.nextSlot(s)) {
    if (fire.length >= maxPerPass) {
      more = true;
      break;
    }
    fire.push({ slot: s, caughtUp: false });
  }
  const decidedTo = more ? fire.at(-1)!.slot : now;
  return { fire, decidedTo, skipped, more, nextSlot: schedule.nextSlot(decidedTo) };
}
