// A composite kind's load balancer: the one whose targets the lb-sync controller keeps equal to
// the kind's serving instances, on one port. Autoscaling groups and deployments take it alike.

import Type from 'typebox';
import type { FieldError } from '../../core/resources/field-error.js';
import type { AdmissionContext } from '../../core/resources/kind.js';

/** The `loadBalancer` field of a spec. */
export const LoadBalancerAttachment = Type.Object(
  {
    id: Type.String({ description: 'id of one of your load balancers, on the same network' }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      description: 'the instances port it forwards to',
    }),
  },
  { additionalProperties: false },
);

export type LoadBalancerAttachment = Type.Static<typeof LoadBalancerAttachment>;

/** The reference field of {@link LoadBalancerAttachment}, for a kind's `references`. */
export const LOAD_BALANCER_REFERENCE = { field: 'loadBalancer/id', kind: 'load-balancers' } as const;

/** The load balancer must forward on the network the instances are on. */
export async function admitLoadBalancer(
  attachment: LoadBalancerAttachment | undefined,
  network: string,
  ctx: AdmissionContext,
  networkField: string,
): Promise<FieldError[]> {
  if (!attachment) return [];
  const lb = await ctx.reference(LOAD_BALANCER_REFERENCE.field);
  const on = lb?.spec.network;
  return typeof on === 'string' && on !== network
    ? [{ path: '/spec/loadBalancer/id', message: `is on network ${on}, not the ${networkField} ${network}` }]
    : [];
}
