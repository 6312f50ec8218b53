// The cron audit: from the recorded slots (and, when given, the backend's deliveries), every
// slot that should have fired and did not (a gap), fired or recorded more than once (a double),
// or fired when it should not have (unexpected). Drills and tests judge "exactly once" with it.

import { DEFAULT_MAX_CATCH_UP, DEFAULT_TIME_ZONE, scheduleOf } from '../../kinds/cron-jobs/index.js';
import { slotToken } from './slots.js';

/** One recorded slot as the audit reads it. */
export interface RecordedSlot {
  readonly jobId: string;
  /** The slot's time, ms since the Unix epoch. */
  readonly slot: number;
  /** Writes of the row (1 when recorded once). Default 1. */
  readonly writes?: number;
}

/** One call the backend delivered (its audit's `created` entries of `webhook.deliver`). */
export interface DeliveredCall {
  readonly clientToken: string;
}

/** A job as the audit judges it. */
export interface AuditedJob {
  readonly id: string;
  readonly schedule: string;
  readonly timeZone?: string | undefined;
  readonly missedSlots?: 'skip' | 'catch-up' | undefined;
  readonly maxCatchUp?: number | undefined;
  /** Slots after this (ms) are owed: the job's creation. */
  readonly from: number;
  /** Slots after this (ms) are not judged: its deletion was asked. None while it lives. */
  readonly until?: number | undefined;
}

/** What the audit judges. */
export interface CronAuditWindow {
  /** Slots up to and including this (ms) must have fired. */
  readonly until: number;
  /**
   * When no controller could fire slots (from a leader's fault to its successor's term), as
   * [start, end] in ms: under skip a slot inside may be missing; under catch-up only one that
   * more than maxCatchUp later slots of the same window follow.
   */
  readonly downtime?: readonly (readonly [number, number])[];
}

export type CronViolation =
  | { readonly type: 'gap'; readonly jobId: string; readonly slot: number }
  | {
      readonly type: 'double';
      readonly jobId: string;
      readonly slot: number;
      readonly times: number;
      readonly of: 'record' | 'delivery';
    }
  | {
      readonly type: 'unexpected';
      readonly jobId: string;
      readonly slot: number | undefined;
      readonly why: string;
    };

/** The verdict: empty lists mean every owed slot fired exactly once. */
export interface CronAudit {
  readonly gaps: CronViolation[];
  readonly doubles: CronViolation[];
  readonly unexpected: CronViolation[];
  /** Slots the window owes (excused ones included). */
  readonly owed: number;
  /** Owed slots allowed to be missing by the policy (inside a downtime). */
  readonly excused: number;
}

/** Slots of one job in (from, until], oldest first. */
function slotsOf(job: AuditedJob, until: number): number[] {
  const schedule = scheduleOf(job.schedule, job.timeZone ?? DEFAULT_TIME_ZONE);
  const out: number[] = [];
  for (let s = schedule.nextSlot(job.from); s !== undefined && s <= until; s = schedule.nextSlot(s))
    out.push(s);
  return out;
}

/**
 * Downtimes that start at the same instant as one, ending at the latest end: a term that fired
 * nothing before its leader stopped leaves its successor's downtime starting where the one
 * before it did (after the last slot recorded), and under catch-up the successor catches up the
 * last slots of the whole of it. A term that fired anything moves the next start on, so its
 * own window is still judged alone.
 */
export function mergedDowntime(windows: readonly (readonly [number, number])[]): [number, number][] {
  const byStart = new Map<number, number>();
  for (const [a, b] of windows) byStart.set(a, Math.max(byStart.get(a) ?? b, b));
  return [...byStart].sort((x, y) => x[0] - y[0]);
}

/**
 * Judges recorded slots (and delivered calls, by client token) against each job's schedule:
 * a gap is an owed slot with no record that no downtime excuses; a double a slot recorded twice
 * (two rows or `writes` above 1) or delivered twice; unexpected a record of a slot the schedule
 * does not have (or of no known job), or a delivery with no record. Slots after `until` are not judged.
 */
export function cronViolations(
  slots: readonly RecordedSlot[],
  jobs: readonly AuditedJob[],
  window: CronAuditWindow,
  deliveries?: readonly DeliveredCall[],
): CronAudit {
  const gaps: CronViolation[] = [];
  const doubles: CronViolation[] = [];
  const unexpected: CronViolation[] = [];
  const recorded = new Map<string, Map<number, number>>();
  for (const s of slots) {
    const m = recorded.get(s.jobId) ?? new Map<number, number>();
    recorded.set(s.jobId, m);
    m.set(s.slot, (m.get(s.slot) ?? 0) + (s.writes ?? 1));
  }
  const downtime = mergedDowntime(window.downtime ?? []);
  const tokens = new Map<string, { jobId: string; slot: number }>();
  let owed = 0;
  let excused = 0;
  const known = new Set<string>();
  for (const job of jobs) {
    known.add(job.id);
    const rows = recorded.get(job.id) ?? new Map<number, number>();
    const owedSlots = slotsOf(job, Math.min(window.until, job.until ?? Number.POSITIVE_INFINITY));
    const owedSet = new Set(owedSlots);
    for (const s of owedSlots) tokens.set(slotToken(job.id, s), { jobId: job.id, slot: s });
    const keep = job.missedSlots === 'catch-up' ? (job.maxCatchUp ?? DEFAULT_MAX_CATCH_UP) : 0;
    for (const slot of owedSlots) {
      owed++;
      if (rows.has(slot)) continue;
      const inside = downtime.find(([a, b]) => slot >= a && slot <= b);
      // Under catch-up a downtime's last `keep` slots must fire; earlier ones may be missing.
      const later = inside ? owedSlots.filter((s) => s > slot && s <= inside[1]).length : 0;
      if (inside && later >= keep) excused++;
      else gaps.push({ type: 'gap', jobId: job.id, slot });
    }
    for (const [slot, writes] of rows) {
      if (writes > 1) doubles.push({ type: 'double', jobId: job.id, slot, times: writes, of: 'record' });
      if (slot > window.until || (job.until !== undefined && slot > job.until)) continue;
      if (!owedSet.has(slot))
        unexpected.push({ type: 'unexpected', jobId: job.id, slot, why: 'not a slot of the schedule' });
    }
  }
  for (const [jobId, rows] of recorded)
    if (!known.has(jobId))
      for (const slot of rows.keys())
        unexpected.push({ type: 'unexpected', jobId, slot, why: 'no such job' });
  if (deliveries) {
    const effects = new Map<string, number>();
    for (const d of deliveries) effects.set(d.clientToken, (effects.get(d.clientToken) ?? 0) + 1);
    for (const [token, n] of effects) {
      const at = tokens.get(token);
      if (n > 1)
        doubles.push({
          type: 'double',
          jobId: at?.jobId ?? token,
          slot: at?.slot ?? Number.NaN,
          times: n,
          of: 'delivery',
        });
      if (at && !recorded.get(at.jobId)?.has(at.slot))
        unexpected.push({
          type: 'unexpected',
          jobId: at.jobId,
          slot: at.slot,
          why: 'delivered without a record',
        });
    }
  }
  return { gaps, doubles, unexpected, owed, excused };
}
