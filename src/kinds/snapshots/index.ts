// snapshots: a point-in-time copy of one volume; a volume restores from it (spec.fromSnapshot).

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { Snapshot, StoragePort } from '../../core/ports/storage.js';
import type { FieldError } from '../../core/resources/field-error.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import { ReconcileError } from '../../core/resources/reconcile-error.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';

/** What a user asks for. */
export const SnapshotSpec = Type.Object(
  {
    volume: Type.String({ maxLength: 64, description: 'id of one of your volumes' }),
    expiresAt: Type.Optional(
      Type.String({
        maxLength: 40,
        description:
          'an RFC 3339 time after which the storage-lifecycle controller deletes it (unless a volume restores from it)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** An RFC 3339 date and time with an offset or `Z`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The checks a schema cannot express. */
export function checkExpiry(spec: { expiresAt?: string | undefined }): FieldError[] {
  if (spec.expiresAt === undefined) return [];
  if (!RFC3339.test(spec.expiresAt) || Number.isNaN(Date.parse(spec.expiresAt)))
    return [{ path: '/spec/expiresAt', message: 'must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z' }];
  return [];
}

/** What the reconciler reports. */
export const SnapshotOutputs = Type.Object(
  {
    backendId: Type.String(),
    sizeGiB: Type.Integer({ minimum: 1, description: 'size of the volume when taken' }),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof SnapshotSpec>;
type Outputs = Type.Static<typeof SnapshotOutputs>;

function snapshotDriver(storage: StoragePort): Driver<Spec, Outputs> {
  const mutation = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  // The port reads snapshots by listing only (by the resource id's label).
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<Snapshot>(r, ctx, { list: (query) => storage.listSnapshots(query) });
  const outputs = (s: Snapshot): Outputs => ({ backendId: s.id, sizeGiB: s.sizeGiB });
  return {
    async observe(r, ctx) {
      const snapshot = await find(r, ctx);
      // Nothing of a snapshot changes after it is taken: found is up to date.
      return snapshot ? { exists: true, upToDate: true, outputs: outputs(snapshot) } : { exists: false };
    },
    async create(r, ctx) {
      const volume = await ctx.reference('volume');
      const volumeId = (volume?.status.outputs as { backendId?: string } | undefined)?.backendId;
      if (!volumeId)
        throw new ReconcileError('DependencyNotReady', `volume ${r.spec.volume} is not ready yet`);
      const snapshot = await storage.createSnapshot(
        { name: r.id, volumeId, labels: backendLabels(r.id) },
        mutation(ctx),
      );
      return outputs(snapshot);
    },
    async update(_r, observed) {
      return observed;
    },
    async delete(_r, observed, ctx) {
      await storage.deleteSnapshot(observed.backendId, mutation(ctx)).catch((err: unknown) => {
        if (!isNotFoundError(err)) throw err;
      });
    },
  };
}

/** The snapshots kind. */
export const snapshots = defineKind({
  name: 'snapshots',
  idPrefix: 'snap',
  spec: SnapshotSpec,
  outputs: SnapshotOutputs,
  // A reference: deleting a volume with snapshots is a 409 naming them (unless cascading).
  references: [{ field: 'volume', kind: 'volumes' }],
  immutable: ['volume'],
  validate: checkExpiry,
  driver: (ports) => snapshotDriver(ports.storage),
});
