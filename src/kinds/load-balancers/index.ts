// load-balancers: listeners on a network forwarding to instances, each target with a port and
// a weight; the status shows each target's health as the backend reports it.

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { LoadBalancer, LoadBalancerPort, Target } from '../../core/ports/load-balancer.js';
import type { FieldError } from '../../core/resources/field-error.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';
import { referencedOutput } from '../ready.js';

const Port = Type.Integer({ minimum: 1, maximum: 65_535 });

/** What a user asks for. */
export const LoadBalancerSpec = Type.Object(
  {
    network: Type.String({ description: 'id of one of your networks' }),
    listeners: Type.Array(
      Type.Object(
        {
          port: Port,
          protocol: Type.Union([
            Type.Literal('tcp'),
            Type.Literal('udp'),
            Type.Literal('http'),
            Type.Literal('https'),
          ]),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 16 },
    ),
    algorithm: Type.Union([Type.Literal('round-robin'), Type.Literal('least-connections')]),
    healthCheck: Type.Object(
      {
        path: Type.Optional(
          Type.String({
            pattern: '^/[!-~]*$',
            maxLength: 256,
            description: 'HTTP path; absent: a TCP check',
          }),
        ),
        intervalSeconds: Type.Integer({ minimum: 5, maximum: 300 }),
        healthyThreshold: Type.Integer({ minimum: 1, maximum: 10 }),
        unhealthyThreshold: Type.Integer({ minimum: 1, maximum: 10 }),
      },
      { additionalProperties: false },
    ),
    targets: Type.Array(
      Type.Object(
        {
          instance: Type.String({ description: 'id of one of your instances' }),
          port: Port,
          weight: Type.Integer({ minimum: 1, maximum: 100 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const LoadBalancerOutputs = Type.Object(
  {
    backendId: Type.String(),
    revision: Type.Integer(),
    targets: Type.Array(
      Type.Object(
        {
          instance: Type.String(),
          address: Type.String(),
          port: Type.Integer(),
          weight: Type.Integer(),
          healthy: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof LoadBalancerSpec>;
type Outputs = Type.Static<typeof LoadBalancerOutputs>;

/** No two listeners on the same port and transport (http and https run over tcp); no target twice. */
function checkSpec(spec: Spec): FieldError[] {
  const errors: FieldError[] = [];
  const transports = new Map<string, number>();
  spec.listeners.forEach((l, i) => {
    const key = `${l.protocol === 'udp' ? 'udp' : 'tcp'}/${l.port}`;
    const first = transports.get(key);
    if (first !== undefined)
      errors.push({ path: `/spec/listeners/${i}/port`, message: `listener ${first} already uses ${key}` });
    else transports.set(key, i);
  });
  const targets = new Map<string, number>();
  spec.targets.forEach((t, i) => {
    const key = `${t.instance}:${t.port}`;
    const first = targets.get(key);
    if (first !== undefined)
      errors.push({ path: `/spec/targets/${i}`, message: `the same instance and port as target ${first}` });
    else targets.set(key, i);
  });
  return errors;
}

const sameTargets = (a: readonly Target[], b: readonly Target[]) => {
  const key = (t: Target) => `${t.address}:${t.port}:${t.weight ?? 1}:${t.instanceId ?? ''}`;
  return a.length === b.length && a.map(key).sort().join() === b.map(key).sort().join();
};

function loadBalancerDriver(port: LoadBalancerPort): Driver<Spec, Outputs> {
  const mutation = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<LoadBalancer>(r, ctx, {
      get: (id, opts) => port.getLoadBalancer(id, opts),
      list: (query) => port.listLoadBalancers(query),
    });
  /** The backend targets the spec asks for: each instance's address (DependencyNotReady until it has one). */
  const desired = async (r: Resource<Spec, Outputs>, ctx: DriverContext): Promise<Target[]> =>
    Promise.all(
      r.spec.targets.map(async (t, i) => ({
        address: await referencedOutput(ctx, `targets/${i}/instance`, 'address'),
        port: t.port,
        weight: t.weight,
        instanceId: await referencedOutput(ctx, `targets/${i}/instance`, 'backendId'),
      })),
    );
  /** The outputs of a balancer: each target of the spec with the backend's health of it. */
  const outputsOf = async (
    r: Resource<Spec, Outputs>,
    lb: LoadBalancer,
    targets: readonly Target[],
    ctx: DriverContext,
  ): Promise<Outputs> => {
    const health = await port.getTargetHealth(lb.id, { signal: ctx.signal });
    const healthy = (t: Target) =>
      health.some((h) => h.healthy && h.target.address === t.address && h.target.port === t.port);
    return {
      backendId: lb.id,
      revision: lb.revision,
      targets: r.spec.targets.map((t, i) => ({
        instance: t.instance,
        address: targets[i]!.address,
        port: t.port,
        weight: t.weight,
        healthy: healthy(targets[i]!),
      })),
    };
  };
  return {
    async observe(r, ctx) {
      const lb = await find(r, ctx);
      if (!lb) return { exists: false };
      if (r.deletionRequestedAt)
        return {
          exists: true,
          upToDate: true,
          outputs: { backendId: lb.id, revision: lb.revision, targets: [] },
        };
      const targets = await desired(r, ctx);
      return {
        exists: true,
        upToDate: sameTargets(lb.targets, targets),
        outputs: await outputsOf(r, lb, targets, ctx),
      };
    },
    async create(r, ctx) {
      await referencedOutput(ctx, 'network', 'backendId');
      const targets = await desired(r, ctx);
      const lb = await port.createLoadBalancer(
        { name: r.id, listeners: r.spec.listeners, labels: backendLabels(r.id) },
        mutation(ctx),
      );
      const updated = await port.updateTargets(lb.id, targets, mutation(ctx));
      return outputsOf(r, updated, targets, ctx);
    },
    async update(r, observed, ctx) {
      const targets = await desired(r, ctx);
      const updated = await port.updateTargets(observed.backendId, targets, mutation(ctx));
      return outputsOf(r, updated, targets, ctx);
    },
    async delete(_r, observed, ctx) {
      try {
        await port.deleteLoadBalancer(observed.backendId, mutation(ctx));
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
      }
    },
  };
}

/** The load-balancers kind. */
export const loadBalancers = defineKind({
  name: 'load-balancers',
  idPrefix: 'lb',
  spec: LoadBalancerSpec,
  outputs: LoadBalancerOutputs,
  references: [
    { field: 'network', kind: 'networks' },
    { field: 'targets/*/instance', kind: 'instances' },
  ],
  // The backend takes the listeners at creation only.
  immutable: ['network', 'listeners'],
  validate: checkSpec,
  driver: (ports) => loadBalancerDriver(ports.loadBalancer),
});
