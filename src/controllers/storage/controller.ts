// The storage-lifecycle controller (docs/controllers.md): volumes' scheduled snapshots taken and
// pruned to their policy, and snapshots past their expiry deleted, all through the resource
// service inside the term's fenced transaction (plan.ts says what).

import type { ResourceService } from '../../control/service.js';
import type { Resource } from '../../core/resources/resource.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { resourcesOfKind } from '../compute/world.js';
import { type ControllerDefinition, defineController, type PassContext } from '../framework/define.js';
import { expired, planVolume, SNAPSHOT_OF_LABEL } from './plan.js';

/** Options of {@link storageLifecycleController}. */
export interface StorageLifecycleOptions {
  readonly leaderKey: LeaderKey;
  readonly service: ResourceService;
  /** Default 60 s (policies are in minutes). */
  readonly resyncMs?: number;
}

/** A refusal of the store that leaves the snapshot for a later pass (referenced, gone, a clash). */
function refused(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return status === 404 || status === 409;
}

export function storageLifecycleController(options: StorageLifecycleOptions): ControllerDefinition {
  const { service } = options;
  const remove = async (ctx: PassContext, s: Resource) => {
    try {
      await ctx.fenced((tx) => service.delete(s.tenant, 'snapshots', s.id, { tx }));
      return true;
    } catch (err) {
      // A volume restoring from it holds it (409): kept, tried again on a later pass.
      if (isStaleEpochError(err) || !refused(err)) throw err;
      return false;
    }
  };
  return defineController({
    name: 'storage-lifecycle',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 60_000,
    wakeOnKinds: ['volumes', 'snapshots'],
    async pass(ctx) {
      const now = ctx.now();
      const [volumes, snapshots] = await Promise.all([
        resourcesOfKind(ctx.db, 'volumes'),
        resourcesOfKind(ctx.db, 'snapshots'),
      ]);
      let changed = false;
      for (const volume of volumes) {
        if (ctx.signal.aborted) break;
        if (volume.deletionRequestedAt || volume.status.phase !== 'Ready') continue;
        const autos = snapshots.filter((s) => s.labels[SNAPSHOT_OF_LABEL] === volume.id);
        const plan = planVolume(volume, autos, now);
        if (plan.take)
          try {
            await ctx.fenced((tx) =>
              service.create(
                volume.tenant,
                'snapshots',
                { name: plan.take, labels: { [SNAPSHOT_OF_LABEL]: volume.id }, spec: { volume: volume.id } },
                { tx },
              ),
            );
            changed = true;
          } catch (err) {
            // The slot's name taken already (a predecessor's create): nothing to do.
            if (isStaleEpochError(err) || !refused(err)) throw err;
          }
        for (const s of plan.remove) changed = (await remove(ctx, s)) || changed;
      }
      for (const s of expired(snapshots, now)) {
        if (ctx.signal.aborted) break;
        changed = (await remove(ctx, s)) || changed;
      }
      if (changed) service.wakeRelays();
      return { more: false };
    },
  });
}
