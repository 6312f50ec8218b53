// What one pass does to one cluster, from what it read: pure, so the rules are tested without a
// database. Each pool (the control plane `cp`, then each node group in order) is planned like a
// deployment's replicas (src/controllers/deployments/plan.ts): nodes `<cluster>-<pool>-<revision>-<slot>`
// from the image `stratus/k8s-node:v<version>`, one surge node at a time and never fewer
// running than the pool wants. An upgrade goes pool by pool: a pool moves to the new version
// only once every pool before it is settled on it, so one node at a time is being replaced in
// the whole cluster. A node of a pool the spec no longer has goes. A repair request replaces
// every node that had started and is not running now.

import type { Resource } from '../../core/resources/resource.js';
import { API_PORT, type ClusterSpec } from '../../kinds/clusters/index.js';
import { type DeploymentPlan, type DeploymentSpec, planDeployment, revisionOf } from '../deployments/plan.js';

/** The labels of a cluster's nodes. */
export const CLUSTER_LABEL = 'stratus.io/cluster';
export const POOL_LABEL = 'stratus.io/cluster-pool';
/** The control plane's pool. */
export const CONTROL_PLANE = 'cp';

/** The image of a node of `version`. */
export const nodeImage = (version: string): string => `stratus/k8s-node:v${version}`;

/** One pool as wanted. */
interface Pool {
  readonly name: string;
  readonly instanceType: string;
  readonly replicas: number;
}

/** A pool's report. */
export interface PoolReport {
  readonly name: string;
  readonly desired: number;
  readonly ready: number;
  readonly updated: number;
  readonly available: number;
}

/** The report the cluster's status carries. */
export interface ClusterReport {
  readonly phase: 'provisioning' | 'ready' | 'scaling' | 'upgrading' | 'degraded';
  readonly reason: string;
  readonly controlPlane: PoolReport;
  readonly nodeGroups: readonly PoolReport[];
  readonly loadBalancer?: string;
  readonly endpoint?: string;
  readonly kubeconfig?: string;
  readonly repairedAt?: string;
}

/** One pass's plan for one cluster. */
export interface ClusterPlan {
  /** Create the endpoint's load balancer (none yet). */
  readonly createLoadBalancer: boolean;
  /** Nodes to create: name, pool, image, size. */
  readonly create: readonly { name: string; pool: string; image: string; instanceType: string }[];
  readonly remove: readonly Resource[];
  readonly report: ClusterReport;
}

/** The name of a cluster's load balancer. */
export const loadBalancerName = (cluster: string): string => `${cluster.slice(0, 59).replace(/-+$/, '')}-api`;

/** A kubeconfig for an endpoint; it holds no credentials (the endpoint is simulated). */
export function kubeconfigOf(name: string, endpoint: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters:\n- name: ${name}\n  cluster:\n    server: ${endpoint}`,
    `contexts:\n- name: ${name}\n  context:\n    cluster: ${name}\n    user: ${name}`,
    `current-context: ${name}`,
    `users:\n- name: ${name}\n  user: {}`,
    '',
  ].join('\n');
}

const isRunningIn = (running: ReadonlySet<string>) => (c: Resource) => {
  const id = (c.status.outputs as { backendId?: unknown } | undefined)?.backendId;
  return typeof id === 'string' && running.has(id);
};

/**
 * The plan of one cluster: `children` are its instances and load balancer (those being deleted
 * included), `running` the backend ids of instances running now.
 */
export function planCluster(
  cluster: Resource,
  children: readonly Resource[],
  running: ReadonlySet<string>,
): ClusterPlan {
  const spec = cluster.spec as unknown as ClusterSpec;
  const outputs = (cluster.status.outputs ?? {}) as { repairedAt?: string };
  const isRunning = isRunningIn(running);
  const nodes = children.filter((c) => c.kind === 'instances');
  const lb = children.find((c) => c.kind === 'load-balancers' && !c.deletionRequestedAt);
  const pools: Pool[] = [
    {
      name: CONTROL_PLANE,
      instanceType: spec.controlPlane.instanceType,
      replicas: spec.controlPlane.replicas,
    },
    ...spec.nodeGroups.map((g) => ({ name: g.name, instanceType: g.instanceType, replicas: g.desired })),
  ];
  const wanted = new Set(pools.map((p) => p.name));
  const target = nodeImage(spec.version);
  const repair = spec.repairRequestedAt !== undefined && spec.repairRequestedAt !== outputs.repairedAt;

  const create: ClusterPlan['create'][number][] = [];
  const remove: Resource[] = [];
  const reports: PoolReport[] = [];
  let blocked = false;
  let phase: ClusterReport['phase'] = 'ready';
  const worst = (p: ClusterReport['phase']) => {
    const rank = ['ready', 'scaling', 'provisioning', 'upgrading', 'degraded'];
    if (rank.indexOf(p) > rank.indexOf(phase)) phase = p;
  };
  for (const pool of pools) {
    const mine = nodes.filter((n) => n.labels[POOL_LABEL] === pool.name);
    // While a pool before this one is still moving to the target, this one stays on the image
    // its live nodes have (a new pool starts on the target at once).
    const current = mine.find((n) => !n.deletionRequestedAt)?.spec.image as string | undefined;
    const image = blocked && current !== undefined ? current : target;
    const as: DeploymentSpec = {
      image,
      replicas: pool.replicas,
      instanceType: pool.instanceType,
      network: spec.network,
      strategy: { maxSurge: 1, maxUnavailable: 0 },
    };
    const plan: DeploymentPlan = planDeployment(
      { ...cluster, name: `${cluster.name}-${pool.name}`, spec: as as never },
      mine,
      running,
    );
    for (const name of plan.create)
      create.push({ name, pool: pool.name, image, instanceType: pool.instanceType });
    remove.push(...plan.remove);
    if (repair)
      for (const n of mine)
        if (!n.deletionRequestedAt && n.status.phase === 'Ready' && !isRunning(n) && !remove.includes(n))
          remove.push(n);
    const r = plan.report;
    reports.push({
      name: pool.name,
      desired: pool.replicas,
      ready: r.ready,
      updated: r.updated,
      available: r.available,
    });
    const settled = r.phase === 'ready' && r.revision === revisionOf({ ...as, image: target });
    if (!settled) blocked = true;
    if (r.phase === 'degraded') worst('degraded');
    else if (r.phase === 'updating' || image !== target) worst('upgrading');
    else if (r.phase === 'scaling') worst(r.updated === 0 && r.available === 0 ? 'provisioning' : 'scaling');
  }
  // Nodes of a pool no longer in the spec.
  for (const n of nodes)
    if (!n.deletionRequestedAt && !wanted.has(n.labels[POOL_LABEL] ?? '') && !remove.includes(n))
      remove.push(n);

  const lbBackend = (lb?.status.outputs as { backendId?: string } | undefined)?.backendId;
  const endpoint =
    lbBackend === undefined ? undefined : `https://${lbBackend}.lb.stratus.internal:${API_PORT}`;
  if (!endpoint) worst('provisioning');
  const [cp, ...groups] = reports as [PoolReport, ...PoolReport[]];
  const reason =
    phase === 'ready'
      ? `${cp.ready} control-plane nodes and ${groups.reduce((n, g) => n + g.ready, 0)} workers running ${spec.version}`
      : phase === 'upgrading'
        ? `upgrading to ${spec.version}: ${reports.reduce((n, p) => n + p.updated, 0)} of ${reports.reduce((n, p) => n + p.desired, 0)} nodes`
        : phase === 'provisioning'
          ? endpoint
            ? 'nodes starting'
            : 'the endpoint is being created'
          : phase === 'degraded'
            ? 'replacing failed nodes'
            : `${reports.reduce((n, p) => n + p.available, 0)} of ${reports.reduce((n, p) => n + p.desired, 0)} nodes running`;
  return {
    createLoadBalancer: lb === undefined,
    create,
    remove,
    report: {
      phase,
      reason,
      controlPlane: cp,
      nodeGroups: groups,
      ...(lb ? { loadBalancer: lb.id } : {}),
      ...(endpoint ? { endpoint, kubeconfig: kubeconfigOf(cluster.name, endpoint) } : {}),
      ...(repair
        ? { repairedAt: spec.repairRequestedAt! }
        : outputs.repairedAt
          ? { repairedAt: outputs.repairedAt }
          : {}),
    },
  };
}
