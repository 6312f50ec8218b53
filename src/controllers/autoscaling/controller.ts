// The autoscaling controller: each group's size decided from its instances' CPU (policy.ts),
// then its children converged to that size, every write in the term's fenced transaction.

import { getMaxListeners, setMaxListeners } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { ResourceService } from '../../control/service.js';
import type { ComputePort } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import {
  backendIdOf,
  type ChildView,
  childName,
  childViewsOf,
  cpuPercent,
  listedRunning,
  pagesOfKind,
  resourcesByIds,
  runningOf,
  slotOf,
} from '../compute/world.js';
import {
  type ControllerDefinition,
  changedIds,
  defineController,
  type PassContext,
} from '../framework/define.js';
import { type Decision, decide, type GroupSizing, type ScalingState } from './policy.js';

const sql = (name: string) => loadText(new URL(`./sql/${name}.sql`, import.meta.url));
const SQL = {
  states: sql('states'),
  statesOf: sql('states-of'),
  upsertState: sql('upsert-state'),
  insertDecision: sql('insert-decision'),
  writeScaling: sql('write-scaling'),
  cleanStates: sql('clean-states'),
};

/** Groups a page of a full pass converges. */
const FULL_PASS_PAGE = 100;

/** Decisions a group's status shows (the table keeps them all). */
export const SHOWN_DECISIONS = 10;

/** The kind this controller serves. */
export const GROUPS = 'autoscaling-groups';

/** A group's spec as the controller reads it. */
export interface GroupSpec extends GroupSizing {
  readonly template: { image: string; instanceType: string; network: string; subnet?: string };
  readonly loadBalancer?: { id: string; port: number };
}

/** The report a group's status carries (`outputs.scaling`). */
export interface ScalingReport {
  readonly desired: number;
  readonly instances: number;
  readonly running: number;
  readonly lastScaledAt: string;
  readonly decisions: ReadonlyArray<Decision & { at: string }>;
}

/** Options of {@link autoscalingController}. */
export interface AutoscalingOptions {
  readonly leaderKey: LeaderKey;
  /** The resource service: children are created and deleted through it, inside the fence. */
  readonly service: ResourceService;
  /** For reads only (instances' states and CPU). */
  readonly compute: ComputePort;
  /** Default 5 s. */
  readonly resyncMs?: number;
  /**
   * How long a group's CPU sample is used before it is taken again, while the group's running
   * instances stay the same: a pass woken by an event need not open a stats stream per instance
   * (a metrics pipeline's resolution; Kubernetes' autoscaler syncs every 15 s). Default 5 s.
   */
  readonly cpuSampleMs?: number;
}

/** The default age up to which a group's CPU sample is used again. */
export const DEFAULT_CPU_SAMPLE_MS = 5_000;

/** What the pass plans for one group. */
export interface GroupPlan {
  readonly state: ScalingState;
  readonly stateChanged: boolean;
  readonly decision?: Decision;
  /** Slots to create, lowest first. */
  readonly create: readonly number[];
  /** Children to delete, highest slot first. */
  readonly remove: readonly ChildView[];
  readonly report: ScalingReport;
}

/**
 * The plan of one group from what was read: its size (policy.ts), then the slots below it that
 * have no child (a child still being deleted keeps its slot's name until it is gone, so a slot
 * never has two), and the live children at or above it.
 */
export function planGroup(
  group: Resource,
  children: readonly ChildView[],
  state: ScalingState | undefined,
  seen: { running: number; cpuPercent: number | undefined },
  now: number,
): GroupPlan {
  const spec = group.spec as unknown as GroupSpec;
  const outcome = decide(spec, group.generation, state, seen, now);
  const desired = outcome.state.desired;
  const taken = new Set(children.map((c) => slotOf(group.name, c.name)));
  const create: number[] = [];
  for (let slot = 0; slot < desired; slot++) if (!taken.has(slot)) create.push(slot);
  const live = children.filter((c) => !c.deletionRequestedAt);
  const remove = live
    .filter((c) => (slotOf(group.name, c.name) ?? Number.POSITIVE_INFINITY) >= desired)
    .sort((a, b) => (slotOf(group.name, b.name) ?? 1e9) - (slotOf(group.name, a.name) ?? 1e9));
  const previous = (group.status.outputs as { scaling?: ScalingReport } | undefined)?.scaling;
  const decisions = [
    ...(previous?.decisions ?? []),
    ...(outcome.decision ? [{ at: new Date(now).toISOString(), ...outcome.decision }] : []),
  ].slice(-SHOWN_DECISIONS);
  return {
    state: outcome.state,
    stateChanged: !isDeepStrictEqual(state, outcome.state),
    ...(outcome.decision ? { decision: outcome.decision } : {}),
    create,
    remove,
    report: {
      desired,
      instances: live.length - remove.length + create.length,
      running: seen.running,
      lastScaledAt: new Date(outcome.state.lastScaledAt).toISOString(),
      decisions,
    },
  };
}

/** The controller's state of these groups (of every group without them). */
async function readStates(q: Queryable, groups?: readonly Resource[]): Promise<Map<string, ScalingState>> {
  const res = groups ? await q.query(SQL.statesOf, [groups.map((g) => g.id)]) : await q.query(SQL.states);
  return new Map(
    res.rows.map((r) => [
      r.group_id as string,
      {
        desired: Number(r.desired),
        specGeneration: Number(r.spec_generation),
        lastScaledAt: Number(r.last_scaled_ms),
      },
    ]),
  );
}

/**
 * The autoscaling controller (docs/controllers.md): every group's size from its CPU toward the
 * target, with cooldown, never outside min/max, each decision recorded with its reason, and its
 * children (instances it owns, `<group>-<slot>`) created and deleted to match.
 */
export function autoscalingController(options: AutoscalingOptions): ControllerDefinition {
  const { service, compute } = options;
  const sampleMs = options.cpuSampleMs ?? DEFAULT_CPU_SAMPLE_MS;
  /** Each group's last sample: when, of which running instances, and the mean. */
  const samples = new Map<string, { at: number; of: string; cpu: number | undefined }>();
  const sample = async (
    ctx: PassContext,
    group: string,
    children: readonly ChildView[],
    running: ReadonlySet<string>,
  ) => {
    const ids = children.map(backendIdOf).filter((id): id is string => id !== undefined && running.has(id));
    const of = ids.sort().join(',');
    const last = samples.get(group);
    if (last && last.of === of && ctx.now() - last.at < sampleMs) return last.cpu;
    // One stats stream per instance at once, each listening to the pass's signal.
    setMaxListeners(Math.max(getMaxListeners(ctx.signal), ids.length + 10), ctx.signal);
    const cpus = (await Promise.all(ids.map((id) => cpuPercent(compute, id, ctx.signal)))).filter(
      (v): v is number => v !== undefined,
    );
    const cpu = cpus.length === 0 ? undefined : cpus.reduce((a, b) => a + b, 0) / cpus.length;
    samples.set(group, { at: ctx.now(), of, cpu });
    return cpu;
  };

  const apply = async (ctx: PassContext, group: Resource, plan: GroupPlan) => {
    const spec = group.spec as unknown as GroupSpec;
    const previous = (group.status.outputs as { scaling?: ScalingReport } | undefined)?.scaling;
    const reportChanged = !isDeepStrictEqual(previous, plan.report);
    if (!plan.stateChanged && plan.create.length === 0 && plan.remove.length === 0 && !reportChanged) return;
    await ctx.fenced(async (tx) => {
      const now = ctx.now();
      if (plan.stateChanged)
        await tx.query(SQL.upsertState, [
          group.id,
          plan.state.desired,
          plan.state.specGeneration,
          plan.state.lastScaledAt,
          ctx.epoch,
        ]);
      if (plan.decision) {
        const d = plan.decision;
        await tx.query(SQL.insertDecision, [group.id, now, d.from, d.to, d.reason, d.message, ctx.epoch]);
      }
      for (const slot of plan.create)
        await service.create(
          group.tenant,
          'instances',
          {
            name: childName(group.name, slot),
            spec: {
              image: spec.template.image,
              size: spec.template.instanceType,
              network: spec.template.network,
              ...(spec.template.subnet === undefined ? {} : { subnet: spec.template.subnet }),
            },
          },
          { tx, owner: group.id },
        );
      for (const child of plan.remove)
        await service.delete(group.tenant, 'instances', child.id, { tx, owner: group.id });
      if (reportChanged) await tx.query(SQL.writeScaling, [group.id, JSON.stringify(plan.report)]);
    });
    if (plan.create.length > 0 || plan.remove.length > 0) service.wakeRelays();
  };

  /**
   * Sizes these groups and converges their children, each group's trouble kept from the others;
   * returns the first one. `listed`: the backend listing of a full pass.
   */
  const converge = async (
    ctx: PassContext,
    groups: readonly Resource[],
    states: ReadonlyMap<string, ScalingState>,
    listed?: ReadonlySet<string>,
  ): Promise<unknown> => {
    const children = await childViewsOf(
      ctx.db,
      groups.map((g) => g.id),
    );
    const running = await runningOf(compute, [...children.values()].flat(), ctx.signal, listed);
    let failed: unknown;
    for (const group of groups) {
      if (ctx.signal.aborted) break;
      const kids = children.get(group.id) ?? [];
      const live = kids.filter((c) => !c.deletionRequestedAt);
      const up = live.filter((c) => running.has(backendIdOf(c) ?? ''));
      const spec = group.spec as unknown as GroupSpec;
      const cpu = spec.policy && up.length > 0 ? await sample(ctx, group.id, up, running) : undefined;
      const plan = planGroup(
        group,
        kids,
        states.get(group.id),
        { running: up.length, cpuPercent: cpu },
        ctx.now(),
      );
      try {
        await apply(ctx, group, plan);
      } catch (err) {
        // The term is over: stop. Another group's trouble (a name taken by hand) does not stop
        // the others; the pass reports it and is retried.
        if (isStaleEpochError(err)) throw err;
        failed ??= err;
      }
    }
    return failed;
  };

  return defineController({
    name: 'autoscaling',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: [GROUPS, 'instances'],
    async pass(ctx) {
      if (ctx.changes) {
        // Woken by changes: only the groups that changed or whose instances did.
        const ids = new Set([...changedIds(ctx.changes, GROUPS), ...ctx.changes.owners]);
        const groups = (await resourcesByIds(ctx.db, GROUPS, ids)).filter((g) => !g.deletionRequestedAt);
        if (groups.length === 0) return { more: false };
        const failed = await converge(ctx, groups, await readStates(ctx.db, groups));
        if (failed !== undefined) throw failed;
        return { more: false };
      }
      // Changes heard before this pass began go first.
      await ctx.yieldToChanges?.();
      // Every group, a page at a time, each page read afresh, changes heard meanwhile served
      // between pages; one backend listing for the pass.
      const [listed, states] = await Promise.all([listedRunning(compute, ctx.signal), readStates(ctx.db)]);
      const known = new Set<string>();
      let failed: unknown;
      for await (const page of pagesOfKind(ctx.db, GROUPS, FULL_PASS_PAGE)) {
        if (ctx.signal.aborted) break;
        for (const g of page) known.add(g.id);
        const live = page.filter((g) => !g.deletionRequestedAt);
        if (live.length > 0) {
          const trouble = await converge(ctx, live, await readStates(ctx.db, live), listed);
          failed ??= trouble;
        }
        await ctx.yieldToChanges?.();
      }
      if (ctx.signal.aborted) return { more: false };
      for (const id of samples.keys()) if (!known.has(id)) samples.delete(id);
      const gone = [...states.keys()].filter((id) => !known.has(id));
      if (gone.length > 0) await ctx.fenced((tx) => tx.query(SQL.cleanStates));
      if (failed !== undefined) throw failed;
      return { more: false };
    },
  });
}
