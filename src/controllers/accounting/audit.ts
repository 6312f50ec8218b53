// The accounting audit: from the recorded minutes and the resources' lifetimes, every minute
// that is missing (a gap), recorded more than once (a double) or recorded outside its
// resource's life. Drills and tests judge "exactly once, no gaps" with it.

/** One recorded minute as the audit reads it. */
export interface UsageMinute {
  readonly resourceId: string;
  /** Start of the minute, ms since the Unix epoch. */
  readonly minute: number;
  /** Writes of the minute (the row's `writes`; 1 when recorded once). Default 1. */
  readonly writes?: number;
}

/** When a resource existed. */
export interface Lifetime {
  readonly resourceId: string;
  readonly createdAt: number;
  /** Undefined while it exists. */
  readonly deletedAt?: number | undefined;
}

/** What the audit judges up to. */
export interface AuditWindow {
  readonly minuteMs: number;
  /** Minutes starting before this one must be recorded (ms since the Unix epoch, aligned or not). */
  readonly until: number;
}

export type AccountingViolation =
  | { readonly type: 'gap'; readonly resourceId: string; readonly minute: number }
  | { readonly type: 'double'; readonly resourceId: string; readonly minute: number; readonly writes: number }
  | { readonly type: 'outside-lifetime'; readonly resourceId: string; readonly minute: number };

/** The audit's verdict: empty lists mean every minute was recorded exactly once. */
export interface AccountingAudit {
  readonly gaps: AccountingViolation[];
  readonly doubles: AccountingViolation[];
  readonly outside: AccountingViolation[];
  /** Minutes the window owes, all resources together. */
  readonly owed: number;
}

/** The minutes a lifetime owes before `until`: [first, stop) in steps of `minuteMs`. */
export function owedMinutes(l: Lifetime, w: AuditWindow): { first: number; stop: number } {
  const first = Math.floor(l.createdAt / w.minuteMs) * w.minuteMs;
  const cutoff = Math.floor(w.until / w.minuteMs) * w.minuteMs;
  const ends =
    l.deletedAt === undefined ? Number.POSITIVE_INFINITY : Math.ceil(l.deletedAt / w.minuteMs) * w.minuteMs;
  return { first, stop: Math.min(cutoff, ends) };
}

/**
 * Judges recorded minutes against lifetimes: a gap is an owed minute (an ended minute the
 * resource lived in) with no row; a double a minute written more than once (two rows, or a row
 * whose `writes` is above 1); outside a row for a minute the resource did not live in (or of a
 * resource with no lifetime). Rows after the window are not judged.
 */
export function accountingViolations(
  rows: readonly UsageMinute[],
  lifetimes: readonly Lifetime[],
  window: AuditWindow,
): AccountingAudit {
  const gaps: AccountingViolation[] = [];
  const doubles: AccountingViolation[] = [];
  const outside: AccountingViolation[] = [];
  const byResource = new Map<string, Map<number, number>>();
  for (const r of rows) {
    let minutes = byResource.get(r.resourceId);
    if (!minutes) {
      minutes = new Map();
      byResource.set(r.resourceId, minutes);
    }
    minutes.set(r.minute, (minutes.get(r.minute) ?? 0) + (r.writes ?? 1));
  }
  const lives = new Map(lifetimes.map((l) => [l.resourceId, l]));
  let owed = 0;
  for (const l of lifetimes) {
    const { first, stop } = owedMinutes(l, window);
    const minutes = byResource.get(l.resourceId);
    for (let m = first; m < stop; m += window.minuteMs) {
      owed++;
      if (!minutes?.has(m)) gaps.push({ type: 'gap', resourceId: l.resourceId, minute: m });
    }
  }
  for (const [resourceId, minutes] of byResource) {
    const l = lives.get(resourceId);
    for (const [minute, writes] of minutes) {
      if (writes > 1) doubles.push({ type: 'double', resourceId, minute, writes });
      if (!l) {
        outside.push({ type: 'outside-lifetime', resourceId, minute });
        continue;
      }
      const first = Math.floor(l.createdAt / window.minuteMs) * window.minuteMs;
      const ends =
        l.deletedAt === undefined
          ? Number.POSITIVE_INFINITY
          : Math.ceil(l.deletedAt / window.minuteMs) * window.minuteMs;
      if (minute < first || minute >= ends || minute % window.minuteMs !== 0)
        outside.push({ type: 'outside-lifetime', resourceId, minute });
    }
  }
  return { gaps, doubles, outside, owed };
}
