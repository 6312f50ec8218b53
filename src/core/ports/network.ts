// The network port: networks, IP allocation, and attaching instances.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/** A named part of a network's range. */
export interface Subnet {
  /** Name, unique in the network. */
  readonly name: string;
  /** Address range inside the network's, e.g. `10.0.1.0/24`; subnets do not overlap. */
  readonly cidr: string;
}

/** What to create. */
export interface NetworkSpec {
  /** Human name. */
  readonly name: string;
  /** Address range, e.g. `10.0.0.0/16`. */
  readonly cidr: string;
  /** Subnets; without any, addresses come from the whole range. */
  readonly subnets?: readonly Subnet[];
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A network. */
export interface Network extends NetworkSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** Instances attached to it. */
  readonly attachments: readonly string[];
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** An allocated address. */
export interface IpAllocation {
  /** The network it belongs to. */
  readonly networkId: string;
  /** The address. */
  readonly address: string;
  /** The subnet it was allocated in, when the network has subnets. */
  readonly subnet?: string;
}

/** Options of an address allocation. */
export interface AllocateOptions extends MutationOptions {
  /** Subnet to allocate in; default the network's first (or its whole range). */
  readonly subnet?: string;
}

/** Which instance to attach to which network. */
export interface NetworkAttachment {
  /** The network. */
  readonly networkId: string;
  /** The instance. */
  readonly instanceId: string;
}

/** Network backend. */
export interface NetworkPort extends Pingable {
  /** Creates a network. */
  createNetwork(spec: NetworkSpec, options: MutationOptions): Promise<Network>;
  /** Reads a network. */
  getNetwork(id: string, options?: CallOptions): Promise<Network>;
  /** Lists networks. */
  listNetworks(options?: ListOptions): Promise<Page<Network>>;
  /** Deletes a network; Conflict while instances are attached. */
  deleteNetwork(id: string, options: MutationOptions): Promise<void>;
  /** Allocates a free address in the network. */
  allocateIp(networkId: string, options: AllocateOptions): Promise<IpAllocation>;
  /** Releases an address. */
  releaseIp(allocation: IpAllocation, options: MutationOptions): Promise<void>;
  /** Attaches an instance. */
  attach(attachment: NetworkAttachment, options: MutationOptions): Promise<Network>;
  /** Detaches an instance. */
  detach(attachment: NetworkAttachment, options: MutationOptions): Promise<Network>;
}
