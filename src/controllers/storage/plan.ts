// What the storage-lifecycle controller does, from what it read: pure, so the policy is tested
// with an injected clock.
//
// A volume with a `snapshotPolicy` has a snapshot slot every `everyMinutes`; the slot's snapshot
// is named after the volume and the slot's number, so a successor after a failover names it the
// same and never takes it twice (a second create of a name is refused by the store). Of its
// automatic snapshots (labelled with the volume's id) the newest `keep` stay, the older ones go.
// Any snapshot past its `expiresAt` goes too, unless a volume restores from it.

import { createHash } from 'node:crypto';
import type { Resource } from '../../core/resources/resource.js';

/** The label of a snapshot taken by a volume's policy: the volume's id. */
export const SNAPSHOT_OF_LABEL = 'stratus.io/snapshot-of';

/** A volume's snapshot policy. */
export interface SnapshotPolicy {
  readonly everyMinutes: number;
  readonly keep: number;
}

/** The slot `now` falls in, for a policy of `everyMinutes`: its number since the Unix epoch. */
export function slotOf(now: number, everyMinutes: number): number {
  return Math.floor(now / (everyMinutes * 60_000));
}

/** The name of a volume's snapshot of `slot`: a DNS label whatever the volume's name. */
export function autoSnapshotName(volumeName: string, slot: number): string {
  const prefix =
    volumeName.length <= 44
      ? volumeName
      : `${volumeName.slice(0, 37).replace(/-+$/, '')}-${createHash('sha256').update(volumeName).digest('hex').slice(0, 6)}`;
  return `${prefix}-auto-${slot.toString(36)}`;
}

/** One volume's plan: the snapshot to take now (its name), and the automatic ones to delete. */
export function planVolume(
  volume: Resource,
  autos: readonly Resource[],
  now: number,
): { readonly take?: string; readonly remove: readonly Resource[] } {
  const policy = (volume.spec as { snapshotPolicy?: SnapshotPolicy }).snapshotPolicy;
  if (!policy) return { remove: [] };
  const name = autoSnapshotName(volume.name, slotOf(now, policy.everyMinutes));
  const live = autos.filter((s) => !s.deletionRequestedAt);
  const taken = autos.some((s) => s.name === name);
  // Newest first by creation (ids sort by creation time); the one about to be taken counts.
  const newest = [...live].sort((a, b) => (a.id < b.id ? 1 : -1));
  const room = taken ? policy.keep : policy.keep - 1;
  return { ...(taken ? {} : { take: name }), remove: newest.slice(Math.max(0, room)) };
}

/** The snapshots past their `expiresAt` at `now`, not being deleted. */
export function expired(snapshots: readonly Resource[], now: number): Resource[] {
  return snapshots.filter((s) => {
    const at = (s.spec as { expiresAt?: string }).expiresAt;
    return !s.deletionRequestedAt && at !== undefined && Date.parse(at) <= now;
  });
}

/** One look at a volume's automatic snapshots (tests and drills take them). */
export interface RetentionSample {
  readonly at: number;
  /** Automatic snapshots not being deleted. */
  readonly live: number;
}

/**
 * The samples that break a policy: more than `keep` automatic snapshots alive, beyond the one a
 * pass takes before it deletes the oldest. Empty: none.
 */
export function retentionViolations(samples: readonly RetentionSample[], policy: SnapshotPolicy): string[] {
  return samples
    .filter((s) => s.live > policy.keep + 1)
    .map(
      (s) =>
        `at ${new Date(s.at).toISOString()}: ${s.live} automatic snapshots, above keep ${policy.keep} + 1`,
    );
}
