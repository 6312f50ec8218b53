// The managed-database port: clusters of one primary and N replicas, and the two calls a
// failover makes, `fence` and `promote`. Both carry the caller's leadership epoch as the
// fencing token and are judged per database: the backend refuses an epoch older than the
// newest it has seen for that database, so a deposed controller can neither fence nor promote.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/** A database engine. */
export type DatabaseEngine = 'postgres' | 'mysql';

/** What a node of a cluster does: `fenced` nodes take no writes and are never promoted. */
export type DatabaseNodeRole = 'primary' | 'replica' | 'fenced';

/** One node of a cluster, as the backend sees it now. */
export interface DatabaseNode {
  /** Stable within the cluster (`<cluster>-0`, `<cluster>-1`, …). */
  readonly name: string;
  readonly role: DatabaseNodeRole;
  /** Whether the node answers. */
  readonly healthy: boolean;
  /** Since when `healthy` has had its value (ms since the epoch, backend clock). */
  readonly healthSince: number;
  /** How far a replica is behind its primary (ms); 0 for a primary. */
  readonly lagMs: number;
}

/** What to create. */
export interface DatabaseSpec {
  /** Human name; unique, the backend's key of a create. */
  readonly name: string;
  readonly engine: DatabaseEngine;
  /** Engine version, e.g. `16` or `8.0`. */
  readonly version: string;
  /** Replicas besides the primary (0 to 5). */
  readonly replicas: number;
  /** Size of every node (instance-type catalogue name). */
  readonly instanceType: string;
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A point-in-time copy of a cluster's data. */
export interface DatabaseSnapshot {
  readonly id: string;
  readonly createdAt: number;
}

/** A cluster. */
export interface DatabaseCluster extends DatabaseSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** Its nodes, the primary among them. */
  readonly nodes: readonly DatabaseNode[];
  /** The snapshots taken of it. */
  readonly snapshots: readonly DatabaseSnapshot[];
  /** The snapshot last restored, if any. */
  readonly restoredFrom?: string;
  /** The version of the credentials in force (the secret itself is never listed). */
  readonly credentialsVersion: number;
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** New credentials, returned once by {@link DatabasePort.rotateCredentials}. */
export interface DatabaseCredentials {
  readonly version: number;
  readonly username: string;
  readonly password: string;
}

/** Managed-database backend. */
export interface DatabasePort extends Pingable {
  /** Creates a cluster: node 0 the primary, the others its replicas. */
  createDatabase(spec: DatabaseSpec, options: MutationOptions): Promise<DatabaseCluster>;
  /** Reads a cluster. */
  getDatabase(id: string, options?: CallOptions): Promise<DatabaseCluster>;
  /** Lists clusters. */
  listDatabases(options?: ListOptions): Promise<Page<DatabaseCluster>>;
  /** Deletes a cluster. */
  deleteDatabase(id: string, options: MutationOptions): Promise<void>;
  /**
   * Fences a node (`fencingToken` = the epoch): it takes no writes and is never promoted, up or
   * down. Refused (StaleFencingToken) with an epoch older than the database's newest.
   */
  fence(id: string, node: string, options: MutationOptions): Promise<DatabaseCluster>;
  /**
   * Makes a healthy replica the primary (`fencingToken` = the epoch). It does not demote anyone:
   * fence the old primary first. Conflict while another healthy node is a primary.
   */
  promote(id: string, node: string, options: MutationOptions): Promise<DatabaseCluster>;
  /** A planned change of primary between two healthy nodes, in one step (old one a replica). */
  switchover(id: string, node: string, options: MutationOptions): Promise<DatabaseCluster>;
  /** Snapshots the cluster's data. */
  snapshotDatabase(id: string, options: MutationOptions): Promise<DatabaseSnapshot>;
  /** Restores one of its snapshots into the cluster. */
  restoreDatabase(id: string, snapshot: string, options: MutationOptions): Promise<DatabaseCluster>;
  /** A new credentials version; the previous one is revoked at once. */
  rotateCredentials(id: string, options: MutationOptions): Promise<DatabaseCredentials>;
}
