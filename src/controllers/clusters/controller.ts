// The cluster reconciler (docs/controllers.md): each cluster's endpoint load balancer and nodes
// converged to its spec by the rules of plan.ts — created, rolled to a new version one node at a
// time, repaired — every create and delete through the resource service inside the term's
// fenced transaction, so a deposed leader changes nothing.

import { isDeepStrictEqual } from 'node:util';
import type { ResourceService } from '../../control/service.js';
import type { ComputePort } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { API_PORT, type ClusterSpec } from '../../kinds/clusters/index.js';
import { backendInstances, childrenOf, resourcesOfKind } from '../compute/world.js';
import { type ControllerDefinition, defineController, type PassContext } from '../framework/define.js';
import { CLUSTER_LABEL, type ClusterPlan, loadBalancerName, POOL_LABEL, planCluster } from './plan.js';

const SQL = { write: loadText(new URL('./sql/write-cluster.sql', import.meta.url)) };

/** The kind this controller serves. */
export const CLUSTERS = 'clusters';

/** Options of {@link clustersController}. */
export interface ClustersOptions {
  readonly leaderKey: LeaderKey;
  /** Nodes and load balancers are created and deleted through it, inside the fence. */
  readonly service: ResourceService;
  /** For reads only: which nodes run. */
  readonly compute: ComputePort;
  /** Default 5 s. */
  readonly resyncMs?: number;
}

export function clustersController(options: ClustersOptions): ControllerDefinition {
  const { service, compute } = options;
  const apply = async (ctx: PassContext, cluster: Resource, plan: ClusterPlan) => {
    const spec = cluster.spec as unknown as ClusterSpec;
    // The outputs are merged into, so the report changed when one of its own keys did.
    const outputs = (cluster.status.outputs ?? {}) as Record<string, unknown>;
    const reportChanged = Object.entries(plan.report).some(([k, v]) => !isDeepStrictEqual(outputs[k], v));
    if (!plan.createLoadBalancer && plan.create.length === 0 && plan.remove.length === 0 && !reportChanged)
      return;
    await ctx.fenced(async (tx) => {
      if (plan.createLoadBalancer)
        await service.create(
          cluster.tenant,
          'load-balancers',
          {
            name: loadBalancerName(cluster.name),
            labels: { [CLUSTER_LABEL]: cluster.name },
            spec: {
              network: spec.network,
              listeners: [{ port: API_PORT, protocol: 'tcp' }],
              algorithm: 'round-robin',
              healthCheck: { intervalSeconds: 5, healthyThreshold: 1, unhealthyThreshold: 2 },
              targets: [],
            },
          },
          { tx, owner: cluster.id },
        );
      for (const node of plan.create)
        await service.create(
          cluster.tenant,
          'instances',
          {
            name: node.name,
            labels: { [CLUSTER_LABEL]: cluster.name, [POOL_LABEL]: node.pool },
            spec: { image: node.image, size: node.instanceType, network: spec.network },
          },
          { tx, owner: cluster.id },
        );
      for (const child of plan.remove)
        await service.delete(cluster.tenant, 'instances', child.id, { tx, owner: cluster.id });
      if (reportChanged) await tx.query(SQL.write, [cluster.id, JSON.stringify(plan.report)]);
    });
    if (plan.createLoadBalancer || plan.create.length > 0 || plan.remove.length > 0) service.wakeRelays();
  };

  return defineController({
    name: 'clusters',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: [CLUSTERS, 'instances', 'load-balancers'],
    async pass(ctx) {
      const clusters = (await resourcesOfKind(ctx.db, CLUSTERS)).filter((c) => !c.deletionRequestedAt);
      if (clusters.length === 0) return { more: false };
      const [children, backend] = await Promise.all([
        childrenOf(
          ctx.db,
          clusters.map((c) => c.id),
        ),
        backendInstances(compute, ctx.signal),
      ]);
      const running = new Set([...backend.values()].filter((i) => i.state === 'running').map((i) => i.id));
      let failed: unknown;
      for (const cluster of clusters) {
        if (ctx.signal.aborted) break;
        try {
          await apply(ctx, cluster, planCluster(cluster, children.get(cluster.id) ?? [], running));
        } catch (err) {
          // The term is over: stop. One cluster's trouble does not stop the others.
          if (isStaleEpochError(err)) throw err;
          failed ??= err;
        }
      }
      if (failed !== undefined) throw failed;
      return { more: false };
    },
  });
}
