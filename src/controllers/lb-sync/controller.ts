// The load-balancer sync controller: a load balancer's targets follow the healthy running
// instances of the autoscaling groups and deployments that name it, and a cluster's endpoint
// follows its running control-plane nodes. Targets that are no such owner's instances (set by
// hand) are kept. A change is a PATCH of the load balancer's targets through the resource
// service inside the term's fenced transaction; its reconcile job sets them in the backend.

import { isDeepStrictEqual } from 'node:util';
import { PreconditionFailedError } from '../../control/errors.js';
import type { ResourceService } from '../../control/service.js';
import type { ComputePort } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { API_PORT } from '../../kinds/clusters/index.js';
import type { LoadBalancerAttachment } from '../../kinds/load-balancers/attachment.js';
import { GROUPS } from '../autoscaling/controller.js';
import { CONTROL_PLANE, POOL_LABEL } from '../clusters/plan.js';
import {
  backendIdOf,
  type ChildView,
  childViewsOf,
  ownedAmong,
  ownersNaming,
  resourcesByIds,
  resourcesOfKind,
  runningOf,
} from '../compute/world.js';
import {
  type ControllerDefinition,
  changedIds,
  defineController,
  type PassChanges,
  type PassContext,
} from '../framework/define.js';

/** One target of a load balancer's spec. */
export interface TargetSpec {
  readonly instance: string;
  readonly port: number;
  readonly weight: number;
}

/** What lb-sync reads of a load balancer: whose it is, its generation and its targets. */
export interface LoadBalancerView {
  readonly id: string;
  readonly tenant: string;
  readonly generation: number;
  /** Its deletion was asked for. */
  readonly deleting: boolean;
  readonly targets: readonly TargetSpec[];
}

const VIEWS_SQL = loadText(new URL('./sql/load-balancer-views.sql', import.meta.url));

/** The load balancers with these ids (every one when absent), of every tenant, as views, by id. */
export async function loadBalancerViews(q: Queryable, ids?: Iterable<string>): Promise<LoadBalancerView[]> {
  const list = ids === undefined ? null : [...ids];
  if (list !== null && list.length === 0) return [];
  return (await q.query(VIEWS_SQL, [list])).rows.map((row) => ({
    id: row.id as string,
    tenant: row.tenant as string,
    generation: Number(row.generation),
    deleting: row.deleting === true,
    targets: (row.targets as TargetSpec[] | null) ?? [],
  }));
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
export function serving(child: ChildView, runningBackendIds: ReadonlySet<string>): boolean {
  const outputs = child.status.outputs as { address?: string } | undefined;
  return (
    !child.deletionRequestedAt &&
    child.status.phase === 'Ready' &&
    typeof outputs?.address === 'string' &&
    runningBackendIds.has(backendIdOf(child) ?? '')
  );
}

/**
 * The kinds whose instances can stand behind a load balancer: groups and deployments name one
 * (`spec.loadBalancer`), a cluster owns its endpoint's (`outputs.loadBalancer`, its control plane
 * behind it).
 */
export const LB_OWNER_KINDS = [GROUPS, 'deployments', 'clusters'] as const;

/** The load balancer an owner names, and which of its children stand behind it. */
function attachmentOf(
  owner: Resource,
): (LoadBalancerAttachment & { readonly members?: (child: ChildView) => boolean }) | undefined {
  if (owner.kind === 'clusters') {
    const id = (owner.status.outputs as { loadBalancer?: string } | undefined)?.loadBalancer;
    return id === undefined
      ? undefined
      : { id, port: API_PORT, members: (child) => child.labels[POOL_LABEL] === CONTROL_PLANE };
  }
  return (owner.spec as { loadBalancer?: LoadBalancerAttachment }).loadBalancer;
}

/** What the targets of every load balancer are computed from, indexed once per pass. */
export interface TargetIndex {
  /** Every instance some owner owns: a target naming one is the owners' to set. */
  readonly owned: ReadonlySet<string>;
  /** By load balancer id: the serving instances of the owners that name it, on their port, by id. */
  readonly byLoadBalancer: ReadonlyMap<string, readonly TargetSpec[]>;
}

/** Indexes the owners' serving instances by the load balancer each owner names. */
export function targetIndex(
  owners: readonly Resource[],
  children: ReadonlyMap<string, readonly ChildView[]>,
  runningBackendIds: ReadonlySet<string>,
): TargetIndex {
  const owned = new Set<string>();
  for (const kids of children.values()) for (const c of kids) owned.add(c.id);
  const byLoadBalancer = new Map<string, TargetSpec[]>();
  for (const owner of owners) {
    const attachment = attachmentOf(owner);
    if (owner.deletionRequestedAt || !attachment) continue;
    const targets = byLoadBalancer.get(attachment.id) ?? [];
    for (const child of children.get(owner.id) ?? [])
      if (
        child.kind === 'instances' &&
        (attachment.members?.(child) ?? true) &&
        serving(child, runningBackendIds)
      )
        targets.push({ instance: child.id, port: attachment.port, weight: 1 });
    byLoadBalancer.set(attachment.id, targets);
  }
  for (const targets of byLoadBalancer.values())
    targets.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.port - b.port));
  return { owned, byLoadBalancer };
}

/**
 * The targets a load balancer should have: those of its spec that are no owner's instance,
 * then the serving instances of the owners that name it (none when no owner names it any more).
 */
export function targetsOf(lb: Pick<LoadBalancerView, 'id' | 'targets'>, index: TargetIndex): TargetSpec[] {
  const kept = lb.targets.filter((t) => !index.owned.has(t.instance));
  return [...kept, ...(index.byLoadBalancer.get(lb.id) ?? [])];
}

/** {@link targetsOf} over an index of these owners alone. */
export function wantedTargets(
  lb: Resource,
  owners: readonly Resource[],
  children: ReadonlyMap<string, readonly ChildView[]>,
  runningBackendIds: ReadonlySet<string>,
): TargetSpec[] {
  const targets = (lb.spec as { targets?: TargetSpec[] }).targets ?? [];
  return targetsOf({ id: lb.id, targets }, targetIndex(owners, children, runningBackendIds));
}

/**
 * The load balancers a scoped pass looks at: those that changed, and those an owner that
 * changed (or whose instance changed) names now or named at the last pass — an owner that let
 * go of one takes its instances out of it.
 */
export function loadBalancersTouched(
  changes: PassChanges,
  attachedNow: ReadonlyMap<string, string>,
  attachedBefore: ReadonlyMap<string, string>,
): Set<string> {
  const out = new Set(changedIds(changes, 'load-balancers'));
  const owners = new Set(changes.owners);
  for (const kind of LB_OWNER_KINDS) for (const id of changedIds(changes, kind)) owners.add(id);
  for (const owner of owners)
    for (const lb of [attachedNow.get(owner), attachedBefore.get(owner)]) if (lb !== undefined) out.add(lb);
  return out;
}

/** The lb-sync controller (docs/controllers.md). */
export function lbSyncController(options: LbSyncOptions): ControllerDefinition {
  const { service, compute } = options;
  /** Which load balancer each owner named at the last pass (for a scoped pass's let-go). */
  let attachedBefore = new Map<string, string>();
  /**
   * While a full pass reads: the load balancers scoped passes beside it converged, from reads
   * newer than its own; it leaves them alone.
   */
  let convergedMeanwhile: Set<string> | undefined;

  /** Writes the targets of these load balancers; returns the first trouble (a stale term throws). */
  const sync = async (
    ctx: PassContext,
    lbs: readonly LoadBalancerView[],
    index: TargetIndex,
  ): Promise<unknown> => {
    let failed: unknown;
    for (const lb of lbs) {
      if (ctx.signal.aborted) break;
      if (lb.deleting) continue;
      // An owner that let go of a load balancer leaves its instances there: they go too.
      const targets = targetsOf(lb, index);
      if (isDeepStrictEqual(targets, lb.targets)) continue;
      try {
        // Only over the spec read: a change made meanwhile (targets set by hand) is never
        // overwritten from an older read; its event wakes a pass that reads it. Status writes
        // meanwhile (the load balancer's own reconcile) do not stand in the way.
        await ctx.fenced((tx) =>
          service.patch(
            lb.tenant,
            'load-balancers',
            lb.id,
            { spec: { targets } },
            { tx, ifGeneration: lb.generation },
          ),
        );
        service.wakeRelays();
      } catch (err) {
        if (isStaleEpochError(err)) throw err;
        if (err instanceof PreconditionFailedError) continue;
        failed ??= err;
      }
    }
    return failed;
  };

  /**
   * Converges these load balancers from the owners naming them and their children's backend
   * state; returns the first trouble.
   */
  const converge = async (ctx: PassContext, lbs: readonly LoadBalancerView[]): Promise<unknown> => {
    if (lbs.length === 0) return undefined;
    const ids = new Set(lbs.map((lb) => lb.id));
    const owners = (await ownersNaming(ctx.db, LB_OWNER_KINDS, ids)).filter((o) =>
      ids.has(attachmentOf(o)?.id ?? ''),
    );
    const children = await childViewsOf(
      ctx.db,
      owners.map((o) => o.id),
    );
    const instances = [...children.values()].flat().filter((c) => c.kind === 'instances');
    const index = targetIndex(owners, children, await runningOf(compute, instances, ctx.signal));
    // Targets some owner (of any load balancer) owns are the owners' to set.
    const targeted = lbs.flatMap((lb) => lb.targets.map((t) => t.instance));
    const owned = await ownedAmong(ctx.db, targeted, LB_OWNER_KINDS);
    for (const id of index.owned) owned.add(id);
    return sync(ctx, lbs, { owned, byLoadBalancer: index.byLoadBalancer });
  };

  /** A pass woken by changes: only the load balancers they touch, from only the owners naming them. */
  const scopedPass = async (ctx: PassContext, changes: PassChanges): Promise<unknown> => {
    const changedOwners = new Set(changes.owners);
    for (const kind of LB_OWNER_KINDS) for (const id of changedIds(changes, kind)) changedOwners.add(id);
    const attachedNow = new Map<string, string>();
    const found = await resourcesByIds(ctx.db, LB_OWNER_KINDS, changedOwners);
    for (const o of found) {
      const a = attachmentOf(o);
      if (a !== undefined && !o.deletionRequestedAt) attachedNow.set(o.id, a.id);
    }
    const touched = loadBalancersTouched(changes, attachedNow, attachedBefore);
    for (const id of changedOwners) {
      const lb = attachedNow.get(id);
      if (lb === undefined) attachedBefore.delete(id);
      else attachedBefore.set(id, lb);
    }
    if (touched.size === 0) return undefined;
    for (const id of touched) convergedMeanwhile?.add(id);
    const lbs = await loadBalancerViews(ctx.db, touched);
    return converge(ctx, lbs);
  };

  return defineController({
    name: 'lb-sync',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: [...LB_OWNER_KINDS, 'instances', 'load-balancers'],
    async pass(ctx) {
      if (ctx.changes) {
        const failed = await scopedPass(ctx, ctx.changes);
        if (failed !== undefined) throw failed;
        return { more: false };
      }
      // Changes heard before this pass began go first.
      await ctx.yieldToChanges?.();
      const owners = (await Promise.all(LB_OWNER_KINDS.map((kind) => resourcesOfKind(ctx.db, kind)))).flat();
      const attachedNow = new Map<string, string>();
      for (const o of owners) {
        const a = attachmentOf(o);
        if (a !== undefined && !o.deletionRequestedAt) attachedNow.set(o.id, a.id);
      }
      attachedBefore = attachedNow;
      if (owners.length === 0) return { more: false };
      // The whole world in one read (a full pass in pages costs a fifth more CPU per resource),
      // with the changes heard meanwhile served beside it.
      const read = async () => {
        const [children, lbs] = await Promise.all([
          childViewsOf(
            ctx.db,
            owners.map((o) => o.id),
          ),
          loadBalancerViews(ctx.db),
        ]);
        const instances = [...children.values()].flat().filter((c) => c.kind === 'instances');
        return { children, lbs, running: await runningOf(compute, instances, ctx.signal) };
      };
      const served = new Set<string>();
      convergedMeanwhile = served;
      const { children, lbs, running } = await (ctx.serveChangesWhile?.(read()) ?? read()).finally(() => {
        convergedMeanwhile = undefined;
      });
      const failed = await sync(
        ctx,
        lbs.filter((lb) => !served.has(lb.id)),
        targetIndex(owners, children, running),
      );
      if (failed !== undefined) throw failed;
      return { more: false };
    },
  });
}
