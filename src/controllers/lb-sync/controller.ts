// The load-balancer sync controller: a load balancer's targets follow the healthy running
// instances of the autoscaling groups that name it. Targets that are no group's instances (set
// by hand) are kept. A change is a PATCH of the load balancer's targets through the resource
// service inside the term's fenced transaction; its reconcile job sets them in the backend.

import { isDeepStrictEqual } from 'node:util';
import type { ResourceService } from '../../control/service.js';
import type { ComputePort } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { GROUPS, type GroupSpec } from '../autoscaling/controller.js';
import { backendIdOf, backendInstances, childrenOf, resourcesOfKind } from '../compute/world.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';

/** One target of a load balancer's spec. */
export interface TargetSpec {
  readonly instance: string;
  readonly port: number;
  readonly weight: number;
}

/** Options of {@link lbSyncController}. */
export interface LbSyncOptions {
  readonly leaderKey: LeaderKey;
  readonly service: ResourceService;
  /** For reads only. */
  readonly compute: ComputePort;
  /** Default 5 s. */
  readonly resyncMs?: number;
}

/** An instance fit to take traffic: applied, addressed, not being deleted, running in the backend. */
export function serving(child: Resource, runningBackendIds: ReadonlySet<string>): boolean {
  const outputs = child.status.outputs as { address?: string } | undefined;
  return (
    !child.deletionRequestedAt &&
    child.status.phase === 'Ready' &&
    typeof outputs?.address === 'string' &&
    runningBackendIds.has(backendIdOf(child) ?? '')
  );
}

/**
 * The targets a load balancer should have: those of its spec that are no group's instance,
 * then the serving instances of the groups that name it, on their group's port, by id.
 */
export function wantedTargets(
  lb: Resource,
  groups: readonly Resource[],
  children: ReadonlyMap<string, readonly Resource[]>,
  runningBackendIds: ReadonlySet<string>,
): TargetSpec[] {
  const owned = new Set([...children.values()].flat().map((c) => c.id));
  const current = (lb.spec as { targets?: TargetSpec[] }).targets ?? [];
  const kept = current.filter((t) => !owned.has(t.instance));
  const added: TargetSpec[] = [];
  for (const g of groups) {
    const spec = g.spec as unknown as GroupSpec;
    if (g.deletionRequestedAt || spec.loadBalancer?.id !== lb.id) continue;
    for (const child of children.get(g.id) ?? [])
      if (serving(child, runningBackendIds))
        added.push({ instance: child.id, port: spec.loadBalancer.port, weight: 1 });
  }
  added.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.port - b.port));
  return [...kept, ...added];
}

/** The lb-sync controller (docs/controllers.md). */
export function lbSyncController(options: LbSyncOptions): ControllerDefinition {
  const { service, compute } = options;
  return defineController({
    name: 'lb-sync',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: [GROUPS, 'instances', 'load-balancers'],
    async pass(ctx) {
      const groups = await resourcesOfKind(ctx.db, GROUPS);
      const named = new Set(
        groups.map((g) => (g.spec as unknown as GroupSpec).loadBalancer?.id).filter((id) => id !== undefined),
      );
      if (named.size === 0) return { more: false };
      const [children, lbs, backend] = await Promise.all([
        childrenOf(
          ctx.db,
          groups.map((g) => g.id),
        ),
        resourcesOfKind(ctx.db, 'load-balancers'),
        backendInstances(compute, ctx.signal),
      ]);
      const running = new Set([...backend.values()].filter((i) => i.state === 'running').map((i) => i.id));
      let failed: unknown;
      for (const lb of lbs) {
        if (ctx.signal.aborted) break;
        if (lb.deletionRequestedAt || !named.has(lb.id)) continue;
        const targets = wantedTargets(lb, groups, children, running);
        if (isDeepStrictEqual(targets, (lb.spec as { targets?: TargetSpec[] }).targets ?? [])) continue;
        try {
          await ctx.fenced((tx) =>
            service.patch(lb.tenant, 'load-balancers', lb.id, { spec: { targets } }, { tx }),
          );
          service.wakeRelays();
        } catch (err) {
          if (isStaleEpochError(err)) throw err;
          failed ??= err;
        }
      }
      if (failed !== undefined) throw failed;
      return { more: false };
    },
  });
}
