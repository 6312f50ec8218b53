// The backend objects the garbage collector looks at: every collection of a port that a driver
// labels with its resource's id, listed page by page and deleted by id. In the order deletions
// go: what sits on a network (balancers, instances, databases) before the network, snapshots
// before their volumes; pipeline runs hold nothing.

import type { MutationOptions, Page } from '../../core/ports/common.js';
import type { BackendPorts } from '../../core/ports/index.js';

/** One backend object as the collector reads it. */
export interface LabelledObject {
  readonly id: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** One collection of backend objects. */
export interface Collection {
  /** `compute.instances`...: the name deletions are recorded under. */
  readonly name: string;
  list(options: { signal: AbortSignal; limit: number; cursor?: string }): Promise<Page<LabelledObject>>;
  delete(id: string, options: MutationOptions): Promise<void>;
}

/** The collections of `ports`, in deletion order. */
export function collectionsOf(ports: Omit<BackendPorts, 'webhook'>): Collection[] {
  return [
    {
      name: 'loadBalancer.loadBalancers',
      list: (o) => ports.loadBalancer.listLoadBalancers(o),
      delete: (id, o) => ports.loadBalancer.deleteLoadBalancer(id, o),
    },
    {
      name: 'runner.runs',
      list: (o) => ports.runner.listRuns(o),
      delete: (id, o) => ports.runner.deleteRun(id, o),
    },
    {
      name: 'compute.instances',
      list: (o) => ports.compute.listInstances(o),
      delete: (id, o) => ports.compute.deleteInstance(id, o),
    },
    {
      name: 'database.databases',
      list: (o) => ports.database.listDatabases(o),
      delete: (id, o) => ports.database.deleteDatabase(id, o),
    },
    {
      name: 'storage.snapshots',
      list: (o) => ports.storage.listSnapshots(o),
      delete: (id, o) => ports.storage.deleteSnapshot(id, o),
    },
    {
      name: 'storage.volumes',
      list: (o) => ports.storage.listVolumes(o),
      delete: (id, o) => ports.storage.deleteVolume(id, o),
    },
    {
      name: 'dns.zones',
      list: (o) => ports.dns.listZones(o),
      delete: (id, o) => ports.dns.deleteZone(id, o),
    },
    {
      name: 'network.networks',
      list: (o) => ports.network.listNetworks(o),
      delete: (id, o) => ports.network.deleteNetwork(id, o),
    },
  ];
}
