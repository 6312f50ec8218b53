// deployments: a container image run as N replicas, each an instance the deployment owns,
// converged by the deployments controller (src/controllers/deployments): missing replicas
// created, surplus ones deleted, crashed ones replaced, and a new image (or a restart) rolled
// out a few replicas at a time, never below `replicas - maxUnavailable` running; optionally
// behind a load balancer kept in step by the lb-sync controller. A composite kind: the
// deployment itself has nothing in the backend.

import Type from 'typebox';
import type { FieldError } from '../../core/resources/field-error.js';
import { defineKind } from '../../core/resources/kind.js';
import { compositeDriver } from '../composite.js';
import { INSTANCE_SIZES } from '../instances/index.js';
import {
  admitLoadBalancer,
  LOAD_BALANCER_REFERENCE,
  LoadBalancerAttachment,
} from '../load-balancers/attachment.js';

/** The most replicas of one deployment. */
export const MAX_REPLICAS = 100;

const Replicas = Type.Integer({ minimum: 0, maximum: MAX_REPLICAS });

/** What a user asks for. */
export const DeploymentSpec = Type.Object(
  {
    image: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[a-z0-9][-a-z0-9._:/]*$',
      description: 'the container image each replica runs, e.g. nginx:1.27 or registry.example/app:v2',
    }),
    replicas: Replicas,
    instanceType: Type.Union(
      INSTANCE_SIZES.map((s) => Type.Literal(s)),
      { description: 'see GET /v1/instance-types' },
    ),
    network: Type.String({ description: 'id of one of your networks' }),
    subnet: Type.Optional(Type.String({ maxLength: 64, description: 'the subnet to take addresses in' })),
    strategy: Type.Optional(
      Type.Object(
        {
          maxSurge: Type.Integer({
            minimum: 0,
            maximum: MAX_REPLICAS,
            description: 'replicas above `replicas` while a new image rolls out; default 1',
          }),
          maxUnavailable: Type.Integer({
            minimum: 0,
            maximum: MAX_REPLICAS,
            description: 'replicas below `replicas` allowed not running while it rolls out; default 0',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    loadBalancer: Type.Optional(LoadBalancerAttachment),
    restartedAt: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'set by the restart action: a new value replaces every replica, rolling',
      }),
    ),
  },
  { additionalProperties: false },
);

/** What the controller reports: `rollout`. */
export const DeploymentOutputs = Type.Object(
  {
    rollout: Type.Optional(
      Type.Object(
        {
          phase: Type.Union([
            Type.Literal('ready'),
            Type.Literal('scaling'),
            Type.Literal('updating'),
            Type.Literal('degraded'),
          ]),
          reason: Type.String(),
          revision: Type.String({
            description: 'of the image, size, subnet and restart the replicas should have',
          }),
          replicas: Type.Integer(),
          updated: Type.Integer({ description: 'replicas of the current revision' }),
          ready: Type.Integer({ description: 'replicas of the current revision running' }),
          available: Type.Integer({ description: 'replicas of any revision running' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof DeploymentSpec>;

/** The checks a schema cannot express. */
export function checkStrategy(spec: Pick<Spec, 'strategy'>): FieldError[] {
  const s = spec.strategy;
  if (s && s.maxSurge === 0 && s.maxUnavailable === 0)
    return [
      {
        path: '/spec/strategy/maxSurge',
        message: 'must be above 0 when maxUnavailable is 0 (a rollout could not replace any replica)',
      },
    ];
  return [];
}

/** The deployments kind. */
export const deployments = defineKind({
  name: 'deployments',
  idPrefix: 'dep',
  spec: DeploymentSpec,
  outputs: DeploymentOutputs,
  references: [{ field: 'network', kind: 'networks' }, LOAD_BALANCER_REFERENCE],
  // The replicas' network cannot move under them.
  immutable: ['network'],
  owns: ['instances'],
  validate: checkStrategy,
  // The load balancer must forward on the replicas' network.
  admit: (spec, ctx) => admitLoadBalancer(spec.loadBalancer, spec.network, ctx, "deployment's"),
  actions: {
    scale: {
      description: 'Set the number of replicas (the same number: 200, nothing to do)',
      body: Type.Object({ replicas: Replicas }, { additionalProperties: false }),
      apply: (spec, body) => ({ spec: { ...spec, replicas: body.replicas as number } }),
    },
    restart: {
      description: 'Replace every replica, a few at a time as for a new image',
      apply: (spec) => ({ spec: { ...spec, restartedAt: new Date().toISOString() } }),
    },
  },
  driver: () => compositeDriver(),
});
