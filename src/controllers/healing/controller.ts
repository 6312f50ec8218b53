// The healing controller: instances that crashed in the backend (stopped while their spec says
// running, or gone) are restarted, with a backoff and a cap per window (policy.ts), and replaced
// once the cap is reached when a group owns them. It acts through the resource service inside
// the term's fenced transaction: a restart is a reboot (one more generation, whose reconcile job
// starts the instance again, or creates it anew when the backend lost it), a replacement the
// delete of the child, whose group then creates a new one in its slot.

import type { ResourceService } from '../../control/service.js';
import type { ComputePort } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { backendIdOf, backendInstances, resourcesOfKind } from '../compute/world.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';
import { DEFAULT_HEALING_LIMITS, type HealingLimits, type HealState, healStep } from './policy.js';

const SQL = {
  states: loadText(new URL('./sql/states.sql', import.meta.url)),
  upsert: loadText(new URL('./sql/upsert-state.sql', import.meta.url)),
};

/** Options of {@link healingController}. */
export interface HealingOptions {
  readonly leaderKey: LeaderKey;
  readonly service: ResourceService;
  /** For reads only. */
  readonly compute: ComputePort;
  readonly limits?: Partial<HealingLimits>;
  /** Default 5 s. */
  readonly resyncMs?: number;
  /** Told of every action (logs, tests). */
  readonly onAction?: (instance: Resource, action: string) => void;
}

async function readStates(q: Queryable): Promise<Map<string, HealState>> {
  const res = await q.query(SQL.states);
  return new Map(
    res.rows.map((r) => [
      r.resource_id as string,
      {
        windowStart: Number(r.window_ms),
        restarts: Number(r.restarts),
        nextAt: Number(r.next_ms),
        lastAction: r.last_action as HealState['lastAction'],
      },
    ]),
  );
}

/**
 * Whether an instance resource is settled and asks to run: not being deleted, its latest
 * generation applied (no pass of its own in flight), powered on by its spec.
 */
export function healable(r: Resource): boolean {
  const spec = r.spec as { powerState?: string };
  return (
    !r.deletionRequestedAt &&
    (spec.powerState ?? 'running') === 'running' &&
    r.status.phase === 'Ready' &&
    r.status.observedGeneration === r.generation &&
    backendIdOf(r) !== undefined
  );
}

/** The healing controller (docs/controllers.md). */
export function healingController(options: HealingOptions): ControllerDefinition {
  const { service, compute } = options;
  const limits = { ...DEFAULT_HEALING_LIMITS, ...options.limits };
  return defineController({
    name: 'healing',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: ['instances'],
    async pass(ctx) {
      const [instances, backend, states] = await Promise.all([
        resourcesOfKind(ctx.db, 'instances'),
        backendInstances(compute, ctx.signal),
        readStates(ctx.db),
      ]);
      let failed: unknown;
      for (const r of instances) {
        if (ctx.signal.aborted || !healable(r)) continue;
        const state = backend.get(backendIdOf(r)!)?.state;
        // Crashed: stopped under a spec that says running, or lost by the backend.
        if (state !== undefined && state !== 'stopped' && state !== 'terminated') continue;
        const now = ctx.now();
        const step = healStep(states.get(r.id), r.owner !== undefined, now, limits);
        if (!step) continue;
        try {
          await ctx.fenced(async (tx) => {
            const s = step.state;
            await tx.query(SQL.upsert, [
              r.id,
              s.windowStart,
              s.restarts,
              s.nextAt,
              s.lastAction,
              now,
              ctx.epoch,
            ]);
            if (step.action === 'restart')
              await service.act(r.tenant, 'instances', r.id, 'reboot', {}, { tx });
            else if (step.action === 'replace')
              await service.delete(r.tenant, 'instances', r.id, {
                tx,
                ...(r.owner ? { owner: r.owner } : {}),
              });
          });
          if (step.action !== 'exhausted') service.wakeRelays();
          options.onAction?.(r, step.action);
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
