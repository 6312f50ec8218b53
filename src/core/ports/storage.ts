// The storage port: volumes and their attachment to instances.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/** What to create. */
export interface VolumeSpec {
  /** Human name. */
  readonly name: string;
  /** Size in GiB. */
  readonly sizeGiB: number;
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
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
}
