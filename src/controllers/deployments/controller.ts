// The deployments controller (docs/controllers.md): each deployment's replicas converged to its
// spec by the rules of plan.ts, every create and delete of a replica through the resource
// service inside the term's fenced transaction, so a deposed leader changes nothing.

import { isDeepStrictEqual } from 'node:util';
import type { ResourceService } from '../../control/service.js';
import type { ComputePort } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { backendInstances, childrenOf, resourcesOfKind } from '../compute/world.js';
import { type ControllerDefinition, defineController, type PassContext } from '../framework/define.js';
import { type DeploymentPlan, type DeploymentSpec, planDeployment } from './plan.js';

const SQL = { writeRollout: loadText(new URL('./sql/write-rollout.sql', import.meta.url)) };

/** The kind this controller serves. */
export const DEPLOYMENTS = 'deployments';

/** Options of {@link deploymentsController}. */
export interface DeploymentsOptions {
  readonly leaderKey: LeaderKey;
  /** Replicas are created and deleted through it, inside the fence. */
  readonly service: ResourceService;
  /** For reads only: which replicas run. */
  readonly compute: ComputePort;
  /** Default 5 s. */
  readonly resyncMs?: number;
}

export function deploymentsController(options: DeploymentsOptions): ControllerDefinition {
  const { service, compute } = options;
  const apply = async (ctx: PassContext, deployment: Resource, plan: DeploymentPlan) => {
    const spec = deployment.spec as unknown as DeploymentSpec;
    const previous = (deployment.status.outputs as { rollout?: unknown } | undefined)?.rollout;
    const reportChanged = !isDeepStrictEqual(previous, plan.report);
    if (plan.create.length === 0 && plan.remove.length === 0 && !reportChanged) return;
    await ctx.fenced(async (tx) => {
      for (const name of plan.create)
        await service.create(
          deployment.tenant,
          'instances',
          {
            name,
            labels: { 'stratus.io/deployment': deployment.name },
            spec: {
              image: spec.image,
              size: spec.instanceType,
              network: spec.network,
              ...(spec.subnet === undefined ? {} : { subnet: spec.subnet }),
            },
          },
          { tx, owner: deployment.id },
        );
      for (const child of plan.remove)
        await service.delete(deployment.tenant, 'instances', child.id, { tx, owner: deployment.id });
      if (reportChanged) await tx.query(SQL.writeRollout, [deployment.id, JSON.stringify(plan.report)]);
    });
    if (plan.create.length > 0 || plan.remove.length > 0) service.wakeRelays();
  };

  return defineController({
    name: 'deployments',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: [DEPLOYMENTS, 'instances'],
    async pass(ctx) {
      const deployments = (await resourcesOfKind(ctx.db, DEPLOYMENTS)).filter((d) => !d.deletionRequestedAt);
      const [children, backend] = await Promise.all([
        childrenOf(
          ctx.db,
          deployments.map((d) => d.id),
        ),
        backendInstances(compute, ctx.signal),
      ]);
      const running = new Set([...backend.values()].filter((i) => i.state === 'running').map((i) => i.id));
      let failed: unknown;
      for (const deployment of deployments) {
        if (ctx.signal.aborted) break;
        try {
          await apply(
            ctx,
            deployment,
            planDeployment(deployment, children.get(deployment.id) ?? [], running),
          );
        } catch (err) {
          // The term is over: stop. One deployment's trouble does not stop the others; the pass
          // reports it and is retried.
          if (isStaleEpochError(err)) throw err;
          failed ??= err;
        }
      }
      if (failed !== undefined) throw failed;
      return { more: false };
    },
  });
}
