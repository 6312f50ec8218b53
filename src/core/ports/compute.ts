// The compute port: instances, their power state, logs and stats.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/**
 * Lifecycle stage of an instance as the backend reports it: a create goes
 * `pending → provisioning → booting → running`, a stop `stopping → stopped`, a delete
 * `terminating → terminated`. The transitional stages last as long as the backend says.
 */
export type InstanceState =
  | 'pending'
  | 'provisioning'
  | 'booting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'terminating'
  | 'terminated';

/** What to create. */
export interface InstanceSpec {
  /** Human name, unique per caller's convention (not enforced). */
  readonly name: string;
  /** Image to boot. */
  readonly image: string;
  /** Size class, e.g. `small`; one of the backend's instance types. */
  readonly size: string;
  /** Owner, counted against its quota; default `default`. */
  readonly tenant?: string;
  /** Placement zone, whose capacity it uses; default the backend's first zone. */
  readonly zone?: string;
  /** Free-form labels, used for listing. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** An instance. */
export interface Instance extends InstanceSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** Power state. */
  readonly state: InstanceState;
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** One log line. */
export interface LogLine {
  /** Time of the line (ms since the epoch, backend clock). */
  readonly at: number;
  /** The text. */
  readonly line: string;
}

/** One stats sample. */
export interface InstanceStats {
  /** Sample time (ms since the epoch, backend clock). */
  readonly at: number;
  /** CPU use in [0, 1]. */
  readonly cpu: number;
  /** Memory in use, bytes. */
  readonly memoryBytes: number;
  /** How far a database replica is behind its primary, ms; only for replicas. */
  readonly replicationLagMs?: number;
}

/** Options of a log stream. */
export interface LogOptions extends CallOptions {
  /** Keep the stream open and yield new lines as they come. */
  readonly follow?: boolean;
  /** Start with the last `tail` lines. */
  readonly tail?: number;
}

/** Compute backend. */
export interface ComputePort extends Pingable {
  /** Creates an instance; a repeat with the same client token returns the first instance. */
  createInstance(spec: InstanceSpec, options: MutationOptions): Promise<Instance>;
  /** Reads an instance; NotFound when it does not exist. */
  getInstance(id: string, options?: CallOptions): Promise<Instance>;
  /** Lists instances. */
  listInstances(options?: ListOptions): Promise<Page<Instance>>;
  /** Deletes an instance; deleting a deleted one succeeds (the repeat returns the first result). */
  deleteInstance(id: string, options: MutationOptions): Promise<void>;
  /** Powers an instance on. */
  startInstance(id: string, options: MutationOptions): Promise<Instance>;
  /** Powers an instance off. */
  stopInstance(id: string, options: MutationOptions): Promise<Instance>;
  /**
   * Changes an instance's size class, running or stopped; InvalidInput for a size the backend
   * does not offer, Capacity when the zone has no room, Conflict while terminating.
   */
  resizeInstance(id: string, size: string, options: MutationOptions): Promise<Instance>;
  /** Opens the instance's log stream; it lives until closed, not until a deadline. */
  streamLogs(id: string, options?: LogOptions): Promise<AsyncIterable<LogLine>>;
  /** Opens the instance's stats stream; it lives until closed. */
  streamStats(id: string, options?: CallOptions): Promise<AsyncIterable<InstanceStats>>;
  /**
   * Drops every instance's log lines older than `before` (ms since the epoch, backend clock):
   * the retention of instance logs. Returns how many lines went; a repeat of the client token
   * returns the first count.
   */
  pruneLogs(before: number, options: MutationOptions): Promise<{ readonly removed: number }>;
}
