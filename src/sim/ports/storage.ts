// Simulated storage backend.

import { ConflictError, InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type {
  Snapshot,
  SnapshotSpec,
  StoragePort,
  Volume,
  VolumeAttachment,
  VolumeSpec,
} from '../../core/ports/storage.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';

/** The saved form of the storage state. */
export interface StorageState {
  readonly volumes: readonly Volume[];
  readonly snapshots: readonly Snapshot[];
}

/** Simulated volumes: one attachment at a time, to an instance that exists. */
export class SimStorage implements StoragePort {
  private volumes = new Catalog<Volume>();
  private snapshots = new Catalog<Snapshot>();

  /**
   * @param cloud shared core of the simulated cloud
   * @param instanceExists whether an instance exists (attachments need one)
   */
  constructor(
    private readonly cloud: SimCloud,
    private readonly instanceExists: (id: string) => boolean = () => true,
  ) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('storage', 'ping', options);
  }

  /** @inheritdoc */
  createVolume(spec: VolumeSpec, options: MutationOptions): Promise<Volume> {
    return this.cloud.mutate('storage', 'createVolume', `volume/name:${spec.name}`, spec, options, () => {
      if (!(spec.sizeGiB > 0)) throw new InvalidInputError('sizeGiB must be positive');
      if (spec.fromSnapshot !== undefined) {
        const snapshot = this.snapshots.get(spec.fromSnapshot);
        if (snapshot === undefined) throw new NotFoundError(`snapshot/${spec.fromSnapshot}`);
        if (spec.sizeGiB < snapshot.sizeGiB) {
          throw new InvalidInputError(
            `sizeGiB ${spec.sizeGiB} is smaller than snapshot ${snapshot.id} (${snapshot.sizeGiB})`,
          );
        }
      }
      return this.save({ ...spec, id: this.cloud.newId('vol'), createdAt: this.cloud.wallClock() });
    });
  }

  /** @inheritdoc */
  createSnapshot(spec: SnapshotSpec, options: MutationOptions): Promise<Snapshot> {
    return this.cloud.mutate('storage', 'createSnapshot', `snapshot/name:${spec.name}`, spec, options, () => {
      const volume = this.find(spec.volumeId);
      const snapshot: Snapshot = {
        ...spec,
        id: this.cloud.newId('snap'),
        sizeGiB: volume.sizeGiB,
        createdAt: this.cloud.wallClock(),
      };
      this.snapshots.set(snapshot.id, snapshot);
      return snapshot;
    });
  }

  /** @inheritdoc */
  deleteSnapshot(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('storage', 'deleteSnapshot', `snapshot/${id}`, { id }, options, () => {
      if (!this.snapshots.delete(id)) throw new NotFoundError(`snapshot/${id}`);
    });
  }

  /** @inheritdoc */
  async listSnapshots(options?: ListOptions): Promise<Page<Snapshot>> {
    await this.cloud.enter('storage', 'listSnapshots', options);
    return this.snapshots.page(options);
  }

  /** @inheritdoc */
  async getVolume(id: string, options?: CallOptions): Promise<Volume> {
    await this.cloud.enter('storage', 'getVolume', options, `volume/${id}`);
    return this.find(id);
  }

  /** @inheritdoc */
  async listVolumes(options?: ListOptions): Promise<Page<Volume>> {
    await this.cloud.enter('storage', 'listVolumes', options);
    return this.volumes.page(options);
  }

  /** @inheritdoc */
  deleteVolume(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('storage', 'deleteVolume', `volume/${id}`, { id }, options, () => {
      const volume = this.find(id);
      if (volume.attachedTo !== undefined)
        throw new ConflictError(`volume/${id} is attached to ${volume.attachedTo}`);
      this.volumes.delete(id);
    });
  }

  /** @inheritdoc */
  attachVolume(attachment: VolumeAttachment, options: MutationOptions): Promise<Volume> {
    const resource = `volume/${attachment.volumeId}`;
    return this.cloud.mutate('storage', 'attachVolume', resource, attachment, options, () => {
      const volume = this.find(attachment.volumeId);
      if (volume.attachedTo === attachment.instanceId) return volume;
      if (volume.attachedTo !== undefined)
        throw new ConflictError(`${resource} is attached to ${volume.attachedTo}`);
      if (!this.instanceExists(attachment.instanceId))
        throw new NotFoundError(`instance/${attachment.instanceId}`);
      return this.save({ ...volume, attachedTo: attachment.instanceId });
    });
  }

  /** @inheritdoc */
  detachVolume(attachment: VolumeAttachment, options: MutationOptions): Promise<Volume> {
    const resource = `volume/${attachment.volumeId}`;
    return this.cloud.mutate('storage', 'detachVolume', resource, attachment, options, () => {
      const { attachedTo: _, ...volume } = this.find(attachment.volumeId);
      return this.save(volume);
    });
  }

  /** @inheritdoc */
  resizeVolume(id: string, sizeGiB: number, options: MutationOptions): Promise<Volume> {
    return this.cloud.mutate('storage', 'resizeVolume', `volume/${id}`, { id, sizeGiB }, options, () => {
      const volume = this.find(id);
      if (sizeGiB < volume.sizeGiB) throw new InvalidInputError('volumes only grow');
      return this.save({ ...volume, sizeGiB });
    });
  }

  /** Every volume that exists. */
  all(): Volume[] {
    return [...this.volumes.values()];
  }

  /** Every snapshot that exists. */
  allSnapshots(): Snapshot[] {
    return [...this.snapshots.values()];
  }

  /** The storage state, for saving. */
  exportState(): StorageState {
    return { volumes: this.all(), snapshots: this.allSnapshots() };
  }

  /** Restores a saved state. */
  importState(state: StorageState): void {
    this.volumes = new Catalog(state.volumes.map((v) => [v.id, v]));
    this.snapshots = new Catalog(state.snapshots.map((s) => [s.id, s]));
  }

  private save(volume: Volume): Volume {
    this.volumes.set(volume.id, volume);
    return volume;
  }

  private find(id: string): Volume {
    const volume = this.volumes.get(id);
    if (volume === undefined) throw new NotFoundError(`volume/${id}`);
    return volume;
  }
}
