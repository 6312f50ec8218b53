// volumes: block storage, attached to at most one instance at a time.

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { StoragePort, Volume } from '../../core/ports/storage.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import { ReconcileError } from '../../core/resources/reconcile-error.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';

/** What a user asks for. */
export const VolumeSpec = Type.Object(
  {
    sizeGiB: Type.Integer({ minimum: 1, maximum: 16_384 }),
    type: Type.Union([Type.Literal('standard'), Type.Literal('ssd')]),
    attachedTo: Type.Optional(
      Type.String({ description: 'id of the instance it is attached to; changed by attach and detach' }),
    ),
    fromSnapshot: Type.Optional(
      Type.String({
        maxLength: 64,
        description: "id of one of your snapshots to restore; sizeGiB at least the snapshot's",
      }),
    ),
    snapshotPolicy: Type.Optional(
      Type.Object(
        {
          everyMinutes: Type.Integer({
            minimum: 5,
            maximum: 10_080,
            description:
              'a snapshot every this many minutes (5 to a week), taken by the storage-lifecycle controller',
          }),
          keep: Type.Integer({ minimum: 1, maximum: 100, description: 'the newest this many are kept' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const VolumeOutputs = Type.Object(
  {
    backendId: Type.String(),
    attachedTo: Type.Optional(Type.String({ description: 'backend instance id' })),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof VolumeSpec>;
type Outputs = Type.Static<typeof VolumeOutputs>;

function volumeDriver(storage: StoragePort): Driver<Spec, Outputs> {
  // Attach and detach tokens name their instance: one job may meet the volume on two instances
  // (an older pass still in flight moved it between attempts), each a call of its own.
  const mutation = (ctx: DriverContext, what = '') => ({
    clientToken: `${ctx.clientToken}${what}`,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<Volume>(r, ctx, {
      get: (id, opts) => storage.getVolume(id, opts),
      list: (query) => storage.listVolumes(query),
    });
  /** The backend id of the instance the spec attaches to, or undefined for none. */
  const wantedInstance = async (r: Resource<Spec, Outputs>, ctx: DriverContext) => {
    if (r.spec.attachedTo === undefined) return undefined;
    const target = await ctx.reference('attachedTo');
    const backendId = (target?.status.outputs as { backendId?: string } | undefined)?.backendId;
    if (!backendId)
      throw new ReconcileError('DependencyNotReady', `instance ${r.spec.attachedTo} is not ready yet`);
    return backendId;
  };
  /** The backend id of the snapshot the spec restores, or undefined for an empty volume. */
  const wantedSnapshot = async (r: Resource<Spec, Outputs>, ctx: DriverContext) => {
    if (r.spec.fromSnapshot === undefined) return undefined;
    const snapshot = await ctx.reference('fromSnapshot');
    const out = snapshot?.status.outputs as { backendId?: string; sizeGiB?: number } | undefined;
    if (!out?.backendId)
      throw new ReconcileError('DependencyNotReady', `snapshot ${r.spec.fromSnapshot} is not ready yet`);
    if (out.sizeGiB !== undefined && out.sizeGiB > r.spec.sizeGiB)
      throw new ReconcileError(
        'SnapshotTooLarge',
        `snapshot ${r.spec.fromSnapshot} is ${out.sizeGiB} GiB: ${r.id} needs sizeGiB of at least that`,
        true,
      );
    return out.backendId;
  };
  const attachment = async (
    r: Resource<Spec, Outputs>,
    volume: Volume,
    ctx: DriverContext,
  ): Promise<Outputs> => {
    const wanted = await wantedInstance(r, ctx);
    let current = volume;
    if (current.attachedTo && current.attachedTo !== wanted)
      current = await storage.detachVolume(
        { volumeId: current.id, instanceId: current.attachedTo },
        mutation(ctx, `/detach/${current.attachedTo}`),
      );
    if (wanted && current.attachedTo !== wanted)
      current = await storage.attachVolume(
        { volumeId: current.id, instanceId: wanted },
        mutation(ctx, `/attach/${wanted}`),
      );
    return { backendId: current.id, ...(current.attachedTo ? { attachedTo: current.attachedTo } : {}) };
  };
  return {
    async observe(r, ctx) {
      const volume = await find(r, ctx);
      if (!volume) return { exists: false };
      const wanted = r.spec.attachedTo === undefined ? undefined : r.status.outputs?.attachedTo;
      const upToDate =
        (r.spec.attachedTo === undefined) === (volume.attachedTo === undefined) &&
        (wanted === undefined || wanted === volume.attachedTo);
      return {
        exists: true,
        upToDate: upToDate && volume.sizeGiB === r.spec.sizeGiB,
        outputs: { backendId: volume.id, ...(volume.attachedTo ? { attachedTo: volume.attachedTo } : {}) },
      };
    },
    async create(r, ctx) {
      const fromSnapshot = await wantedSnapshot(r, ctx);
      const volume = await storage.createVolume(
        {
          name: r.id,
          sizeGiB: r.spec.sizeGiB,
          ...(fromSnapshot === undefined ? {} : { fromSnapshot }),
          labels: { ...backendLabels(r.id), 'stratus.io/volume-type': r.spec.type },
        },
        mutation(ctx),
      );
      return attachment(r, volume, ctx);
    },
    async update(r, observed, ctx) {
      let volume = await storage.getVolume(observed.backendId, { signal: ctx.signal });
      if (volume.sizeGiB > r.spec.sizeGiB)
        throw new ReconcileError(
          'ShrinkRefused',
          `${r.id} is ${volume.sizeGiB} GiB: a volume grows, it cannot shrink to ${r.spec.sizeGiB} GiB`,
          true,
        );
      if (volume.sizeGiB < r.spec.sizeGiB)
        volume = await storage.resizeVolume(volume.id, r.spec.sizeGiB, mutation(ctx, '/resize'));
      return attachment(r, volume, ctx);
    },
    async delete(_r, observed, ctx) {
      const ignoreGone = (err: unknown) => {
        if (!isNotFoundError(err)) throw err;
      };
      if (observed.attachedTo)
        await storage
          .detachVolume(
            { volumeId: observed.backendId, instanceId: observed.attachedTo },
            mutation(ctx, `/detach/${observed.attachedTo}`),
          )
          .catch(ignoreGone);
      await storage.deleteVolume(observed.backendId, mutation(ctx)).catch(ignoreGone);
    },
  };
}

/** The volumes kind. */
export const volumes = defineKind({
  name: 'volumes',
  idPrefix: 'vol',
  spec: VolumeSpec,
  outputs: VolumeOutputs,
  // The attachment is a reference: deleting an instance with a volume attached is a 409
  // naming the volume, through the one referrer check.
  references: [
    { field: 'attachedTo', kind: 'instances' },
    { field: 'fromSnapshot', kind: 'snapshots' },
  ],
  immutable: ['type', 'attachedTo', 'fromSnapshot'],
  actions: {
    attach: {
      description: 'Attach a volume to one instance (attached to it already: 200; to another: 409)',
      body: Type.Object({ instance: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
      apply: (spec, body, r) => {
        const instance = body.instance as string;
        if (spec.attachedTo && spec.attachedTo !== instance)
          return { refused: `${r.id} is already attached to ${spec.attachedTo}: detach it first` };
        return { spec: { ...spec, attachedTo: instance } };
      },
    },
    detach: {
      description: 'Detach a volume from its instance (not attached: 200, nothing to do)',
      apply: (spec) => {
        const { attachedTo: _gone, ...rest } = spec;
        return { spec: rest };
      },
    },
  },
  driver: (ports) => volumeDriver(ports.storage),
});
