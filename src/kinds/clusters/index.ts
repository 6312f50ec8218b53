// clusters: a managed Kubernetes-like cluster, simulated — a control plane of 1, 3 or 5 instances
// behind a load balancer (its endpoint), and node groups of worker instances, all of one version.
// The cluster reconciler (src/controllers/clusters) creates and rolls them like a deployment's
// replicas, one node at a time and never below the wanted number running; lb-sync keeps the
// load balancer on the running control-plane nodes. A composite kind: the cluster itself has
// nothing in the backend; its instances and its load balancer are children it owns.

import Type from 'typebox';
import type { FieldError } from '../../core/resources/field-error.js';
import { defineKind } from '../../core/resources/kind.js';
import { compositeDriver } from '../composite.js';
import { INSTANCE_SIZES } from '../instances/index.js';

/** The versions offered, oldest first. */
export const CLUSTER_VERSIONS = ['1.29', '1.30', '1.31'] as const;
/** The most nodes of one node group. */
export const MAX_GROUP_NODES = 50;
/** The port of the API endpoint. */
export const API_PORT = 6443;

const Size = Type.Integer({ minimum: 0, maximum: MAX_GROUP_NODES });
const Version = Type.Union(
  CLUSTER_VERSIONS.map((v) => Type.Literal(v)),
  { description: `one of ${CLUSTER_VERSIONS.join(', ')}` },
);
const InstanceType = Type.Union(
  INSTANCE_SIZES.map((s) => Type.Literal(s)),
  { description: 'see GET /v1/instance-types' },
);

/** One node group. */
export const NodeGroupSpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 20, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
    instanceType: InstanceType,
    minSize: Size,
    maxSize: Size,
    desired: Type.Integer({
      minimum: 0,
      maximum: MAX_GROUP_NODES,
      description: 'between minSize and maxSize',
    }),
  },
  { additionalProperties: false },
);

/** What a user asks for. */
export const ClusterSpec = Type.Object(
  {
    version: Version,
    network: Type.String({ description: 'id of one of your networks' }),
    controlPlane: Type.Object(
      {
        replicas: Type.Union([Type.Literal(1), Type.Literal(3), Type.Literal(5)], {
          description: '1, 3 or 5 (a quorum survives one or two losses)',
        }),
        instanceType: InstanceType,
      },
      { additionalProperties: false },
    ),
    nodeGroups: Type.Array(NodeGroupSpec, { minItems: 1, maxItems: 10 }),
    repairRequestedAt: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'set by the repair action: nodes not running then are replaced',
      }),
    ),
  },
  { additionalProperties: false },
);

export type ClusterSpec = Type.Static<typeof ClusterSpec>;

const Pool = Type.Object(
  {
    name: Type.String(),
    desired: Type.Integer(),
    ready: Type.Integer({ description: 'nodes of the current version running' }),
    updated: Type.Integer({ description: 'nodes of the current version' }),
    available: Type.Integer({ description: 'nodes of any version running' }),
  },
  { additionalProperties: false },
);

/** What the cluster reconciler reports. */
export const ClusterOutputs = Type.Object(
  {
    phase: Type.Optional(
      Type.Union([
        Type.Literal('provisioning'),
        Type.Literal('ready'),
        Type.Literal('scaling'),
        Type.Literal('upgrading'),
        Type.Literal('degraded'),
      ]),
    ),
    reason: Type.Optional(Type.String()),
    loadBalancer: Type.Optional(Type.String({ description: 'id of the load balancer of the endpoint' })),
    endpoint: Type.Optional(Type.String({ description: `https URL of the API, port ${API_PORT}` })),
    kubeconfig: Type.Optional(
      Type.String({
        description: 'a kubeconfig for the endpoint, with no credentials in it',
      }),
    ),
    controlPlane: Type.Optional(Pool),
    nodeGroups: Type.Optional(Type.Array(Pool)),
    repairedAt: Type.Optional(Type.String({ description: 'the last repair request carried out' })),
  },
  { additionalProperties: false },
);

/** The checks a schema cannot express. */
export function checkCluster(spec: ClusterSpec): FieldError[] {
  const out: FieldError[] = [];
  const names = new Map<string, number>();
  spec.nodeGroups.forEach((g, i) => {
    const at = `/spec/nodeGroups/${i}`;
    const first = names.get(g.name);
    if (first !== undefined) out.push({ path: `${at}/name`, message: `is also node group ${first}'s name` });
    else names.set(g.name, i);
    if (g.name === 'cp') out.push({ path: `${at}/name`, message: 'cp is the control plane' });
    if (g.minSize > g.maxSize)
      out.push({ path: `${at}/minSize`, message: `must not be above maxSize (${g.maxSize})` });
    else if (g.desired < g.minSize || g.desired > g.maxSize)
      out.push({
        path: `${at}/desired`,
        message: `must be between minSize (${g.minSize}) and maxSize (${g.maxSize})`,
      });
  });
  return out;
}

/** The clusters kind. */
export const clusters = defineKind({
  name: 'clusters',
  idPrefix: 'cls',
  spec: ClusterSpec,
  outputs: ClusterOutputs,
  references: [{ field: 'network', kind: 'networks' }],
  immutable: ['network'],
  owns: ['instances', 'load-balancers'],
  validate: checkCluster,
  actions: {
    scale: {
      description: "Set a node group's desired size (between its minSize and maxSize)",
      body: Type.Object(
        { nodeGroup: Type.String({ maxLength: 20 }), desired: Size },
        { additionalProperties: false },
      ),
      apply: (spec, body) => {
        const i = spec.nodeGroups.findIndex((g) => g.name === body.nodeGroup);
        if (i < 0)
          return {
            refused: `no node group ${String(body.nodeGroup)}: one of ${spec.nodeGroups.map((g) => g.name).join(', ')}`,
          };
        const nodeGroups = spec.nodeGroups.map((g, j) =>
          j === i ? { ...g, desired: body.desired as number } : g,
        );
        return { spec: { ...spec, nodeGroups } };
      },
    },
    upgrade: {
      description:
        'Move every node to a newer version, one node at a time (the same version: 200, nothing to do)',
      body: Type.Object({ version: Version }, { additionalProperties: false }),
      apply: (spec, body) => {
        const to = body.version as ClusterSpec['version'];
        if (CLUSTER_VERSIONS.indexOf(to) < CLUSTER_VERSIONS.indexOf(spec.version))
          return { refused: `a cluster on ${spec.version} is not downgraded to ${to}` };
        return { spec: { ...spec, version: to } };
      },
    },
    repair: {
      description: 'Replace every node not running now, one slot at a time',
      apply: (spec) => ({ spec: { ...spec, repairRequestedAt: new Date().toISOString() } }),
    },
  },
  driver: () => compositeDriver(),
});
