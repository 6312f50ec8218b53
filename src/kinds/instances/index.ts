// instances: a virtual machine on one network.

import Type from 'typebox';
import { INSTANCE_TYPES } from '../../core/catalogue/instance-types.js';
import { isConflictError, isNotFoundError } from '../../core/errors/backend-errors.js';
import type { ComputePort, Instance } from '../../core/ports/compute.js';
import type { NetworkPort } from '../../core/ports/network.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import { ReconcileError } from '../../core/resources/reconcile-error.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';

/** Sizes an instance may have: the names of the instance-type catalogue. */
export const INSTANCE_SIZES = INSTANCE_TYPES.map((t) => t.name);

/** The largest user data an instance takes, in characters (a real cloud's is 16 KiB). */
export const MAX_USER_DATA = 16_384;

/** What a user asks for. */
export const InstanceSpec = Type.Object(
  {
    image: Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9][-a-z0-9._:/]*$' }),
    size: Type.Union(
      INSTANCE_SIZES.map((s) => Type.Literal(s)),
      { description: 'see GET /v1/instance-types' },
    ),
    network: Type.String({ description: 'id of one of your networks' }),
    subnet: Type.Optional(Type.String({ maxLength: 64, description: 'the subnet to take the address in' })),
    userData: Type.Optional(
      Type.String({ maxLength: MAX_USER_DATA, description: 'handed to the instance at boot' }),
    ),
    powerState: Type.Optional(
      Type.Union([Type.Literal('running'), Type.Literal('stopped')], {
        description: 'default running; changed by the stop and start actions',
      }),
    ),
    rebootCount: Type.Optional(
      Type.Integer({ minimum: 0, description: 'reboots asked for; each reboot action adds one' }),
    ),
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
    rebootCount: Type.Optional(Type.Integer({ minimum: 0, description: 'the last reboot applied' })),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof InstanceSpec>;
type Outputs = Type.Static<typeof InstanceOutputs>;

/** Backend states of an instance that is off or on its way off. */
const OFF_STATES: ReadonlySet<string> = new Set(['stopping', 'stopped']);

const wantsRunning = (spec: Spec) => (spec.powerState ?? 'running') === 'running';

/** Whether the backend's power state and reboots match the spec. */
function powerUpToDate(spec: Spec, powerState: string, rebootsApplied: number): boolean {
  return wantsRunning(spec) === !OFF_STATES.has(powerState) && rebootsApplied >= (spec.rebootCount ?? 0);
}

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
  // The attachment and the address belong to the instance, not to one pass: their client
  // tokens are derived from the resource id, so any later pass (a crash before the first
  // status write, then a stop action) replays the first attachment and allocation instead of
  // taking a second address.
  const once = (r: Resource<Spec, Outputs>, what: string, ctx: DriverContext) => ({
    clientToken: `${r.id}/${what}`,
    signal: ctx.signal,
  });
  // Power changes are one effect per generation: tokens derived from the pass's own.
  const power = (what: string, ctx: DriverContext) => ({
    clientToken: `${ctx.clientToken}/${what}`,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  /** Brings the power state and reboots to the spec; returns the outputs after. */
  const applyPower = async (
    r: Resource<Spec, Outputs>,
    out: Outputs,
    ctx: DriverContext,
  ): Promise<Outputs> => {
    const reboots = r.spec.rebootCount ?? 0;
    const applied = out.rebootCount ?? 0;
    if (powerUpToDate(r.spec, out.powerState, applied)) return out;
    if (!wantsRunning(r.spec)) {
      const stopped = await compute.stopInstance(out.backendId, power('stop', ctx));
      return { ...out, powerState: stopped.state };
    }
    if (!OFF_STATES.has(out.powerState) && applied < reboots)
      await compute.stopInstance(out.backendId, power('reboot-stop', ctx));
    const started = await compute.startInstance(out.backendId, power('start', ctx));
    return { ...out, powerState: started.state, rebootCount: reboots };
  };
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<Instance>(r, ctx, {
      get: (id, opts) => compute.getInstance(id, opts),
      list: (query) => compute.listInstances(query),
    });
  const networkOf = async (ctx: DriverContext): Promise<string> => {
    const target = await ctx.reference('network');
    const backendId = (target?.status.outputs as { backendId?: string } | undefined)?.backendId;
    if (!target || !backendId)
      throw new ReconcileError('DependencyNotReady', `network ${target?.id ?? '(gone)'} is not ready yet`);
    return backendId;
  };
  const connect = async (
    r: Resource<Spec, Outputs>,
    backendId: string,
    powerState: string,
    ctx: DriverContext,
  ): Promise<Outputs> => {
    const networkId = await networkOf(ctx);
    await network.attach({ networkId, instanceId: backendId }, once(r, 'attach', ctx));
    const { address } = await network.allocateIp(networkId, {
      ...once(r, 'address', ctx),
      ...(r.spec.subnet === undefined ? {} : { subnet: r.spec.subnet }),
    });
    return {
      backendId,
      powerState,
      networkBackendId: networkId,
      address,
      rebootCount: r.spec.rebootCount ?? 0,
    };
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
        upToDate:
          instance.size === r.spec.size && powerUpToDate(r.spec, instance.state, previous.rebootCount ?? 0),
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
      return applyPower(r, await connect(r, instance.id, instance.state, ctx), ctx);
    },
    async update(r, observed, ctx) {
      const connected = observed.address
        ? observed
        : await connect(r, observed.backendId, observed.powerState, ctx);
      // A resize is one effect per generation, running or stopped: the backend keeps the power
      // state, so the power step after it sees the state the resize left.
      const instance = await compute.getInstance(connected.backendId, { signal: ctx.signal });
      const resized =
        instance.size === r.spec.size
          ? connected
          : {
              ...connected,
              powerState: (
                await compute.resizeInstance(connected.backendId, r.spec.size, power('resize', ctx))
              ).state,
            };
      return applyPower(r, resized, ctx);
    },
    async delete(r, observed, ctx) {
      const ignoreGone = (err: unknown) => {
        if (!isNotFoundError(err)) throw err;
      };
      let { networkBackendId: networkId, address } = observed;
      if (!networkId) {
        // No connection recorded: a pass may have attached the instance and taken its address,
        // then crashed before writing its status. Both calls carry the resource's own tokens,
        // so asking again answers with what was done (or does it now, undone just below): the
        // network is left with no attachment and no address of a deleted instance, which
        // would otherwise hold the network's delete forever.
        const target = await ctx.reference('network');
        networkId = (target?.status.outputs as { backendId?: string } | undefined)?.backendId ?? '';
        if (networkId)
          address = await network
            .allocateIp(networkId, {
              ...once(r, 'address', ctx),
              ...(r.spec.subnet === undefined ? {} : { subnet: r.spec.subnet }),
            })
            .then(
              (a) => a.address,
              (err: unknown) => {
                // Gone, or full (so none was ever taken under this token): nothing to release.
                if (isNotFoundError(err) || isConflictError(err)) return undefined;
                throw err;
              },
            );
      }
      if (networkId) {
        await network.detach({ networkId, instanceId: observed.backendId }, shared(ctx)).catch(ignoreGone);
        if (address) await network.releaseIp({ networkId, address }, shared(ctx)).catch(ignoreGone);
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
  // size, powerState and rebootCount change through the actions only, under their preconditions.
  immutable: ['network', 'subnet', 'image', 'size', 'userData', 'powerState', 'rebootCount'],
  actions: {
    stop: {
      description: 'Power an instance off (already stopped: 200, nothing to do)',
      apply: (spec) => ({ spec: { ...spec, powerState: 'stopped' as const } }),
    },
    start: {
      description: 'Power an instance on (already running: 200, nothing to do)',
      apply: (spec) => ({ spec: { ...spec, powerState: 'running' as const } }),
    },
    resize: {
      description:
        'Change the size of an instance, running or stopped (already that size: 200, nothing to do)',
      body: Type.Object(
        {
          size: Type.Union(
            INSTANCE_SIZES.map((s) => Type.Literal(s)),
            { description: 'see GET /v1/instance-types' },
          ),
        },
        { additionalProperties: false },
      ),
      apply: (spec, body) => ({ spec: { ...spec, size: body.size as Spec['size'] } }),
    },
    reboot: {
      description:
        'Restart a running instance: every request is one more reboot (retry with the same Idempotency-Key)',
      apply: (spec, _body, r) =>
        wantsRunning(spec)
          ? { spec: { ...spec, rebootCount: (spec.rebootCount ?? 0) + 1 } }
          : { refused: `${r.id} is stopped: start it instead` },
    },
  },
  driver: (ports) => instanceDriver(ports.compute, ports.network),
});
