// The storage port: volumes and their attachment to instances.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/** What to create. */
export interface VolumeSpec {
  /** Human name. */
  readonly name: string;
  /** Size in GiB; at least the snapshot's when restoring one. */
  readonly sizeGiB: number;
  /** Snapshot to restore the volume from. */
  readonly fromSnapshot?: string;
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What to snapshot. */
export interface SnapshotSpec {
  /** Human name. */
  readonly name: string;
  /** The volume to copy. */
  readonly volumeId: string;
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A point-in-time copy of a volume; it outlives the volume. */
export interface Snapshot extends SnapshotSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** Size of the volume when taken, GiB. */
  readonly sizeGiB: number;
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** A volume. */
export interface Volume extends VolumeSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** The instance it is attached to, if any. */
  readonly attachedTo?: string;
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** Which volume to attach to which instance. */
export interface VolumeAttachment {
  /** The volume. */
  readonly volumeId: string;
  /** The instance. */
  readonly instanceId: string;
}

/** Storage backend. */
export interface StoragePort extends Pingable {
  /** Creates a volume. */
  createVolume(spec: VolumeSpec, options: MutationOptions): Promise<Volume>;
  /** Reads a volume. */
  getVolume(id: string, options?: CallOptions): Promise<Volume>;
  /** Lists volumes. */
  listVolumes(options?: ListOptions): Promise<Page<Volume>>;
  /** Deletes a volume; Conflict while attached. */
  deleteVolume(id: string, options: MutationOptions): Promise<void>;
  /** Attaches a volume; Conflict when it is attached elsewhere. */
  attachVolume(attachment: VolumeAttachment, options: MutationOptions): Promise<Volume>;
  /** Detaches a volume. */
  detachVolume(attachment: VolumeAttachment, options: MutationOptions): Promise<Volume>;
  /** Grows a volume; shrinking is invalid input. */
  resizeVolume(id: string, sizeGiB: number, options: MutationOptions): Promise<Volume>;
  /** Snapshots a volume. */
  createSnapshot(spec: SnapshotSpec, options: MutationOptions): Promise<Snapshot>;
  /** Deletes a snapshot. */
  deleteSnapshot(id: string, options: MutationOptions): Promise<void>;
  /** Lists snapshots. */
  listSnapshots(options?: ListOptions): Promise<Page<Snapshot>>;
}
