// instances: a virtual machine on one network.

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { ComputePort, Instance } from '../../core/ports/compute.js';
import type { NetworkPort } from '../../core/ports/network.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import { ReconcileError } from '../../core/resources/reconcile-error.js';
import type { Resource } from '../../core/resources/resource.js';
import { backendLabels } from '../labels.js';

/** Sizes the compute backend offers (the priced catalogue comes with instance types). */
export const INSTANCE_SIZES = ['small', 'medium', 'large'] as const;

/** What a user asks for. */
export const InstanceSpec = Type.Object(
  {
    image: Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9][-a-z0-9._:/]*$' }),
    size: Type.Union(INSTANCE_SIZES.map((s) => Type.Literal(s))),
    network: Type.String({ description: 'id of one of your networks' }),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const InstanceOutputs = Type.Object(
  {
    backendId: Type.String(),
    powerState: Type.String(),
    networkBackendId: Type.String(),
    address: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof InstanceSpec>;
type Outputs = Type.Static<typeof InstanceOutputs>;

function instanceDriver(compute: ComputePort, network: NetworkPort): Driver<Spec, Outputs> {
  // Fenced: calls on the instance itself. The network's attach and address calls carry the
  // client token only: the fencing token of one instance's job says nothing about another
  // instance's job on the same network, and fencing them against each other would refuse
  // every job whose lease is older than a neighbour's.
  const own = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const shared = (ctx: DriverContext) => ({ clientToken: ctx.clientToken, signal: ctx.signal });
  const find = async (r: Resource<Spec, Outputs>, ctx: DriverContext): Promise<Instance | undefined> => {
    const known = r.status.outputs?.backendId;
    if (known) {
      try {
        return await compute.getInstance(known, { signal: ctx.signal });
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
      }
    }
    const page = await compute.listInstances({ labels: backendLabels(r.id), limit: 1, signal: ctx.signal });
    return page.items[0];
  };
  const networkOf = async (ctx: DriverContext): Promise<string> => {
    const target = await ctx.reference('network');
    const backendId = (target?.status.outputs as { backendId?: string } | undefined)?.backendId;
    if (!target || !backendId)
      throw new ReconcileError('DependencyNotReady', `network ${target?.id ?? '(gone)'} is not ready yet`);
    return backendId;
  };
  const connect = async (backendId: string, powerState: string, ctx: DriverContext): Promise<Outputs> => {
    const networkId = await networkOf(ctx);
    await network.attach({ networkId, instanceId: backendId }, shared(ctx));
    const { address } = await network.allocateIp(networkId, shared(ctx));
    return { backendId, powerState, networkBackendId: networkId, address };
  };
  return {
    async observe(r, ctx) {
      const instance = await find(r, ctx);
      if (!instance) return { exists: false };
      const previous = r.status.outputs;
      const outputs = { ...previous, backendId: instance.id, powerState: instance.state };
      // Found by its label but never attached: an earlier pass crashed between creating it and
      // writing its status. `update` attaches it instead of creating a second one.
      if (!previous?.address)
        return { exists: true, upToDate: false, outputs: { ...outputs, networkBackendId: '' } };
      return {
        exists: true,
        upToDate: true,
        outputs: { ...outputs, networkBackendId: previous.networkBackendId },
      };
    },
    async create(r, ctx) {
      // An instance cannot run without its network: wait for it before creating anything.
      await networkOf(ctx);
      // Every call repeats safely: the client token replays the first result.
      const instance = await compute.createInstance(
        { name: r.id, image: r.spec.image, size: r.spec.size, labels: backendLabels(r.id) },
        own(ctx),
      );
      return connect(instance.id, instance.state, ctx);
    },
    async update(_r, observed, ctx) {
      return observed.address ? observed : connect(observed.backendId, observed.powerState, ctx);
    },
    async delete(_r, observed, ctx) {
      const ignoreGone = (err: unknown) => {
        if (!isNotFoundError(err)) throw err;
      };
      if (observed.networkBackendId) {
        await network
          .detach({ networkId: observed.networkBackendId, instanceId: observed.backendId }, shared(ctx))
          .catch(ignoreGone);
        if (observed.address)
          await network
            .releaseIp({ networkId: observed.networkBackendId, address: observed.address }, shared(ctx))
            .catch(ignoreGone);
      }
      await compute.deleteInstance(observed.backendId, own(ctx)).catch(ignoreGone);
    },
  };
}

/** The instances kind. */
export const instances = defineKind({
  name: 'instances',
  idPrefix: 'inst',
  spec: InstanceSpec,
  outputs: InstanceOutputs,
  references: [{ field: 'network', kind: 'networks' }],
  immutable: ['network', 'image', 'size'],
  actions: {},
  driver: (ports) => instanceDriver(ports.compute, ports.network),
});
