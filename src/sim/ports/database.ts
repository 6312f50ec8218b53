// Simulated managed databases: clusters of one primary and N replicas with health and
// replication lag, the failover calls (`fence`, `promote`) judged by the database's epoch, and
// a history of every change of who may take writes, which `twoWritable` (audit/two-writable.ts)
// scans for an instant with two writable primaries.
//
// A node is writable while its role is `primary`, up or down: a primary that merely stopped
// answering the control plane may still answer clients on the other side of a partition, so
// only a fence takes it out. `promote` refuses while another *healthy* primary exists (the
// backend can see that one), but it cannot see past a down one: promoting while an unfenced
// primary is down is exactly the split brain the failover controller must prevent.

import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type {
  DatabaseCluster,
  DatabaseCredentials,
  DatabaseNode,
  DatabasePort,
  DatabaseSnapshot,
  DatabaseSpec,
} from '../../core/ports/database.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';

/** One change of whether a node takes writes, in the order the simulator made them. */
export interface WritableChange {
  /** Order, from 1. */
  readonly seq: number;
  /** When (ms since the epoch, the cloud's clock). */
  readonly at: number;
  /** The cluster id. */
  readonly database: string;
  /** The node name. */
  readonly node: string;
  /** Whether it takes writes from now on. */
  readonly writable: boolean;
  /** The operation that changed it (`createDatabase`, `fence`, `promote`, …). */
  readonly op: string;
}

/** The saved form of the database state. */
export interface DatabaseState {
  readonly clusters: readonly DatabaseCluster[];
  readonly history: readonly WritableChange[];
  readonly secrets: readonly [string, string][];
}

/** The fencing resource of a cluster's roles: epochs of fence and promote are judged on it. */
export const rolesResource = (id: string): string => `database/${id}/roles`;

const ENGINE_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  postgres: ['14', '15', '16', '17'],
  mysql: ['8.0', '8.4'],
};

/** The simulated managed-database backend. */
export class SimDatabase implements DatabasePort {
  private clusters = new Catalog<DatabaseCluster>();
  private history: WritableChange[] = [];
  private secrets = new Map<string, string>();

  /** @param cloud shared core of the simulated cloud */
  constructor(private readonly cloud: SimCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('database', 'ping', options);
  }

  /** @inheritdoc */
  createDatabase(spec: DatabaseSpec, options: MutationOptions): Promise<DatabaseCluster> {
    return this.cloud.mutate(
      'database',
      'createDatabase',
      `database/name:${spec.name}`,
      spec,
      options,
      () => {
        const versions = ENGINE_VERSIONS[spec.engine];
        if (versions === undefined) throw new InvalidInputError(`engine ${spec.engine} is not offered`);
        if (!versions.includes(spec.version))
          throw new InvalidInputError(
            `${spec.engine} ${spec.version} is not offered (${versions.join(', ')})`,
          );
        if (!(Number.isInteger(spec.replicas) && spec.replicas >= 0 && spec.replicas <= 5))
          throw new InvalidInputError('replicas must be an integer from 0 to 5');
        const id = this.cloud.newId('db');
        const now = this.cloud.wallClock();
        const nodes: DatabaseNode[] = Array.from({ length: spec.replicas + 1 }, (_, i) => ({
          name: `${id}-${i}`,
          role: i === 0 ? 'primary' : 'replica',
          healthy: true,
          healthSince: now,
          lagMs: 0,
        }));
        const cluster: DatabaseCluster = {
          ...spec,
          id,
          nodes,
          snapshots: [],
          credentialsVersion: 1,
          createdAt: now,
        };
        this.clusters.set(id, cluster);
        this.secrets.set(id, newSecret());
        this.changed(id, nodes[0]!.name, true, 'createDatabase');
        return cluster;
      },
    );
  }

  /** @inheritdoc */
  async getDatabase(id: string, options?: CallOptions): Promise<DatabaseCluster> {
    await this.cloud.enter('database', 'getDatabase', options, `database/${id}`);
    return this.find(id);
  }

  /** @inheritdoc */
  async listDatabases(options?: ListOptions): Promise<Page<DatabaseCluster>> {
    await this.cloud.enter('database', 'listDatabases', options);
    return this.clusters.page(options);
  }

  /** @inheritdoc */
  deleteDatabase(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('database', 'deleteDatabase', `database/${id}`, { id }, options, () => {
      const cluster = this.find(id);
      for (const node of cluster.nodes)
        if (node.role === 'primary') this.changed(id, node.name, false, 'deleteDatabase');
      this.clusters.delete(id);
      this.secrets.delete(id);
    });
  }

  /** @inheritdoc */
  fence(id: string, node: string, options: MutationOptions): Promise<DatabaseCluster> {
    return this.cloud.mutate('database', 'fence', rolesResource(id), { id, node }, options, () => {
      const cluster = this.find(id);
      const target = nodeOf(cluster, node);
      if (target.role === 'fenced') return cluster;
      if (target.role === 'primary') this.changed(id, node, false, 'fence');
      return this.setNode(cluster, node, { role: 'fenced' });
    });
  }

  /** @inheritdoc */
  promote(id: string, node: string, options: MutationOptions): Promise<DatabaseCluster> {
    return this.cloud.mutate('database', 'promote', rolesResource(id), { id, node }, options, () => {
      const cluster = this.find(id);
      const target = nodeOf(cluster, node);
      if (target.role === 'primary') return cluster;
      if (target.role === 'fenced') throw new ConflictError(`database/${id}: node ${node} is fenced`);
      if (!target.healthy) throw new ConflictError(`database/${id}: node ${node} is down`);
      const live = cluster.nodes.find((n) => n.role === 'primary' && n.healthy);
      if (live !== undefined)
        throw new ConflictError(`database/${id}: ${live.name} is a healthy primary; switch over instead`);
      this.changed(id, node, true, 'promote');
      return this.setNode(cluster, node, { role: 'primary', lagMs: 0 });
    });
  }

  /** @inheritdoc */
  switchover(id: string, node: string, options: MutationOptions): Promise<DatabaseCluster> {
    return this.cloud.mutate('database', 'switchover', `database/${id}`, { id, node }, options, () => {
      const cluster = this.find(id);
      const target = nodeOf(cluster, node);
      if (target.role === 'primary') return cluster;
      if (target.role === 'fenced' || !target.healthy)
        throw new ConflictError(`database/${id}: node ${node} is ${target.healthy ? 'fenced' : 'down'}`);
      const old = cluster.nodes.find((n) => n.role === 'primary');
      if (old === undefined || !old.healthy)
        throw new ConflictError(`database/${id}: no healthy primary to switch over from (a failover's work)`);
      // Demoted before the other is promoted: at no instant two writable primaries.
      this.changed(id, old.name, false, 'switchover');
      this.changed(id, node, true, 'switchover');
      const demoted = this.setNode(cluster, old.name, { role: 'replica' });
      return this.setNode(demoted, node, { role: 'primary', lagMs: 0 });
    });
  }

  /** @inheritdoc */
  snapshotDatabase(id: string, options: MutationOptions): Promise<DatabaseSnapshot> {
    return this.cloud.mutate('database', 'snapshotDatabase', `database/${id}`, { id }, options, () => {
      const cluster = this.find(id);
      const snapshot = { id: this.cloud.newId('dbsnap'), createdAt: this.cloud.wallClock() };
      this.clusters.set(id, { ...cluster, snapshots: [...cluster.snapshots, snapshot] });
      return snapshot;
    });
  }

  /** @inheritdoc */
  restoreDatabase(id: string, snapshot: string, options: MutationOptions): Promise<DatabaseCluster> {
    return this.cloud.mutate(
      'database',
      'restoreDatabase',
      `database/${id}`,
      { id, snapshot },
      options,
      () => {
        const cluster = this.find(id);
        if (!cluster.snapshots.some((s) => s.id === snapshot))
          throw new NotFoundError(`database/${id}/snapshot/${snapshot}`);
        return this.save({ ...cluster, restoredFrom: snapshot });
      },
    );
  }

  /** @inheritdoc */
  rotateCredentials(id: string, options: MutationOptions): Promise<DatabaseCredentials> {
    return this.cloud.mutate('database', 'rotateCredentials', `database/${id}`, { id }, options, () => {
      const cluster = this.find(id);
      const password = newSecret();
      // The old secret is gone the moment the new one exists: revoked, not kept.
      this.secrets.set(id, password);
      const version = cluster.credentialsVersion + 1;
      this.save({ ...cluster, credentialsVersion: version });
      return { version, username: 'stratus', password };
    });
  }

  /** Whether `password` is the cluster's secret in force (a revoked one is not). */
  acceptsPassword(id: string, password: string): boolean {
    return this.secrets.get(id) === password;
  }

  /** Fault hook: a node stops (or starts again) answering. */
  setHealth(id: string, node: string, healthy: boolean): DatabaseCluster {
    const cluster = this.find(id);
    if (nodeOf(cluster, node).healthy === healthy) return cluster;
    return this.setNode(cluster, node, { healthy, healthSince: this.cloud.wallClock() });
  }

  /** Fault hook: a replica's replication lag. */
  setLag(id: string, node: string, lagMs: number): DatabaseCluster {
    if (!(lagMs >= 0)) throw new InvalidInputError('lagMs must be >= 0');
    const cluster = this.find(id);
    nodeOf(cluster, node);
    return this.setNode(cluster, node, { lagMs });
  }

  /** Reads a cluster without fault rules (drills, tests). */
  peek(id: string): DatabaseCluster | undefined {
    return this.clusters.get(id);
  }

  /** Every cluster that exists. */
  all(): DatabaseCluster[] {
    return [...this.clusters.values()];
  }

  /** Every change of who takes writes, in order. */
  writableHistory(): readonly WritableChange[] {
    return this.history;
  }

  /** The database state, for saving. */
  exportState(): DatabaseState {
    return { clusters: this.all(), history: this.history, secrets: [...this.secrets] };
  }

  /** Restores a saved state. */
  importState(state: DatabaseState): void {
    this.clusters = new Catalog(state.clusters.map((c) => [c.id, c]));
    this.history = [...state.history];
    this.secrets = new Map(state.secrets);
  }

  private changed(database: string, node: string, writable: boolean, op: string): void {
    this.history.push({
      seq: this.history.length + 1,
      at: this.cloud.wallClock(),
      database,
      node,
      writable,
      op,
    });
  }

  private setNode(cluster: DatabaseCluster, name: string, change: Partial<DatabaseNode>): DatabaseCluster {
    return this.save({
      ...cluster,
      nodes: cluster.nodes.map((n) => (n.name === name ? { ...n, ...change } : n)),
    });
  }

  private save(cluster: DatabaseCluster): DatabaseCluster {
    this.clusters.set(cluster.id, cluster);
    return cluster;
  }

  private find(id: string): DatabaseCluster {
    const cluster = this.clusters.get(id);
    if (cluster === undefined) throw new NotFoundError(`database/${id}`);
    return cluster;
  }
}

function nodeOf(cluster: DatabaseCluster, name: string): DatabaseNode {
  const node = cluster.nodes.find((n) => n.name === name);
  if (node === undefined) throw new NotFoundError(`database/${cluster.id}/node/${name}`);
  return node;
}

const newSecret = (): string => randomBytes(18).toString('base64url');
