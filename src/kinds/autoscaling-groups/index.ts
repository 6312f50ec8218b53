// autoscaling-groups: N instances from one template, sized between min and max by the
// autoscaling controller (src/controllers/autoscaling) from the instances' CPU, optionally
// behind a load balancer kept in step by the lb-sync controller. A composite kind: the group
// itself has nothing in the backend; its instances are child resources it owns.

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

/** The largest group. */
export const MAX_GROUP_SIZE = 100;

const Size = Type.Integer({ minimum: 0, maximum: MAX_GROUP_SIZE });

/** What a user asks for. */
export const AutoscalingGroupSpec = Type.Object(
  {
    template: Type.Object(
      {
        image: Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9][-a-z0-9._:/]*$' }),
        instanceType: Type.Union(
          INSTANCE_SIZES.map((s) => Type.Literal(s)),
          { description: 'see GET /v1/instance-types' },
        ),
        network: Type.String({ description: 'id of one of your networks' }),
        subnet: Type.Optional(Type.String({ maxLength: 64, description: 'the subnet to take addresses in' })),
      },
      { additionalProperties: false },
    ),
    minSize: Size,
    maxSize: Size,
    desired: Type.Integer({
      minimum: 0,
      maximum: MAX_GROUP_SIZE,
      description: 'between minSize and maxSize; the policy moves it, the scale action sets it',
    }),
    loadBalancer: Type.Optional(LoadBalancerAttachment),
    policy: Type.Optional(
      Type.Object(
        {
          targetCpuPercent: Type.Integer({ minimum: 1, maximum: 100 }),
          cooldownSeconds: Type.Integer({
            minimum: 0,
            maximum: 86_400,
            description: 'least time between two size changes of the policy',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    scaleInProtection: Type.Optional(
      Type.Boolean({
        description: 'the policy never removes instances (the scale action and maxSize still do)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** One scaling decision, as the status shows the last ones. */
export const ScalingDecision = Type.Object(
  {
    at: Type.String(),
    from: Type.Integer(),
    to: Type.Integer(),
    reason: Type.String(),
    message: Type.String(),
  },
  { additionalProperties: false },
);

/** What the group reports: the autoscaling controller writes `scaling`. */
export const AutoscalingGroupOutputs = Type.Object(
  {
    scaling: Type.Optional(
      Type.Object(
        {
          desired: Type.Integer(),
          instances: Type.Integer({ description: 'children not being deleted' }),
          running: Type.Integer({ description: 'children running in the backend' }),
          lastScaledAt: Type.String(),
          decisions: Type.Array(ScalingDecision, { description: 'the last decisions, newest last' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof AutoscalingGroupSpec>;

/** The size checks a schema cannot express, paths relative to the body. */
export function checkSizes(spec: Pick<Spec, 'minSize' | 'maxSize' | 'desired'>): FieldError[] {
  if (spec.minSize > spec.maxSize)
    return [{ path: '/spec/minSize', message: `must not be above maxSize (${spec.maxSize})` }];
  if (spec.desired < spec.minSize || spec.desired > spec.maxSize)
    return [
      {
        path: '/spec/desired',
        message: `must be between minSize (${spec.minSize}) and maxSize (${spec.maxSize})`,
      },
    ];
  return [];
}

/**
 * Nothing of a group lives in the backend: its pass records the spec as applied and keeps the
 * controller's `scaling` report. Its delete has nothing to remove (its children went first).
 */
/** The autoscaling-groups kind. */
export const autoscalingGroups = defineKind({
  name: 'autoscaling-groups',
  idPrefix: 'asg',
  spec: AutoscalingGroupSpec,
  outputs: AutoscalingGroupOutputs,
  references: [{ field: 'template/network', kind: 'networks' }, LOAD_BALANCER_REFERENCE],
  // A new template would need a rolling replacement of the instances, which is not built.
  immutable: ['template'],
  owns: ['instances'],
  validate: checkSizes,
  // The load balancer must forward on the template's network.
  admit: (spec, ctx) => admitLoadBalancer(spec.loadBalancer, spec.template.network, ctx, "template's"),
  actions: {
    scale: {
      description: 'Set the desired size (between minSize and maxSize; the same size: 200, nothing to do)',
      body: Type.Object({ desired: Size }, { additionalProperties: false }),
      apply: (spec, body) => ({ spec: { ...spec, desired: body.desired as number } }),
    },
  },
  driver: () => compositeDriver(),
});
