// The autoscaling audit: from samples of what existed, the moments a group was outside its
// bounds and the slots that had two live backend instances at once. Pure: drills and tests
// collect the samples (the store and the simulator's truth) and judge them here.

/** What one sample saw of one group. */
export interface GroupSample {
  readonly at: number;
  readonly group: string;
  readonly minSize: number;
  readonly maxSize: number;
  /** The controller's size, when it has decided one. */
  readonly desired: number | undefined;
  /** The group's children not being deleted. */
  readonly live: number;
  /**
   * Live backend instances (not terminating nor terminated) per slot name, each entry the
   * backend ids found for it.
   */
  readonly slots: Readonly<Record<string, readonly string[]>>;
}

/** What {@link autoscalingViolations} found. */
export interface AutoscalingViolations {
  /** A size or a count of live children outside [minSize, maxSize] (children: above maxSize). */
  readonly outside: Array<{ at: number; group: string; what: string }>;
  /** A slot with more than one live backend instance at once. */
  readonly duplicates: Array<{ at: number; group: string; slot: string; backendIds: readonly string[] }>;
}

/** Judges the samples. */
export function autoscalingViolations(samples: readonly GroupSample[]): AutoscalingViolations {
  const outside: AutoscalingViolations['outside'] = [];
  const duplicates: AutoscalingViolations['duplicates'] = [];
  for (const s of samples) {
    if (s.desired !== undefined && (s.desired < s.minSize || s.desired > s.maxSize))
      outside.push({
        at: s.at,
        group: s.group,
        what: `desired ${s.desired} outside ${s.minSize}..${s.maxSize}`,
      });
    // Fewer than minSize is the way up (creating, booting); more than maxSize never happens:
    // the size and the deletes that follow it commit in one transaction.
    if (s.live > s.maxSize)
      outside.push({ at: s.at, group: s.group, what: `${s.live} live instances above maxSize ${s.maxSize}` });
    for (const [slot, ids] of Object.entries(s.slots))
      if (new Set(ids).size > 1) duplicates.push({ at: s.at, group: s.group, slot, backendIds: ids });
  }
  return { outside, duplicates };
}
