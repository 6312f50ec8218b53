// Simulated network backend.

import { ConflictError, InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type {
  AllocateOptions,
  IpAllocation,
  Network,
  NetworkAttachment,
  NetworkPort,
  NetworkSpec,
} from '../../core/ports/network.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';
import { type Cidr, contains, hostAddress, hostCount, overlaps, parseCidr } from './cidr.js';

/** Addresses handed out in one network, and where the next search starts per range. */
interface Pool {
  used: Set<string>;
  /** Next index to try, per subnet name ('' for the whole range). */
  next: Record<string, number>;
}

/**
 * What a network was at every change of its attachments, for the replays of attach and
 * detach: the network without them, and each change in order (`+id` attached, `-id`
 * detached). Kept after the network is deleted, as the first results they rebuild are.
 */
interface History {
  base: Omit<Network, 'attachments'>;
  log: string[];
}

/** The stand-in kept for an attach or detach's result: the network after `version` changes. */
interface AttachmentsAt {
  readonly networkId: string;
  readonly version: number;
}

/** The saved form of the network state. */
export interface NetworkState {
  readonly networks: readonly Network[];
  readonly pools: readonly [string, { used: string[]; next: Record<string, number> }][];
  /** Attachment histories (absent in a file saved before they were kept). */
  readonly histories?: readonly [string, History][];
}

/** Refuses a network whose range or subnets do not hold (InvalidInput naming the subnet). */
function checkSubnets(spec: NetworkSpec): void {
  const range = parseCidr(spec.cidr);
  const seen: [string, Cidr][] = [];
  for (const subnet of spec.subnets ?? []) {
    const sub = parseCidr(subnet.cidr);
    if (!contains(range, sub))
      throw new InvalidInputError(`subnet ${subnet.name} (${subnet.cidr}) is not inside ${spec.cidr}`);
    for (const [name, other] of seen) {
      if (name === subnet.name) throw new InvalidInputError(`subnet name ${name} is used twice`);
      if (overlaps(sub, other)) throw new InvalidInputError(`subnet ${subnet.name} overlaps subnet ${name}`);
    }
    seen.push([subnet.name, sub]);
  }
}

function withoutAttachments(network: Network): Omit<Network, 'attachments'> {
  const { attachments: _, ...base } = network;
  return base;
}

/**
 * Simulated networks. Addresses are handed out from the network's range, never twice
 * while allocated; a search starts after the last one handed out, so a released address
 * is reused only after the range wraps (as clouds avoid reusing an address at once).
 */
export class SimNetwork implements NetworkPort {
  private networks = new Catalog<Network>();
  private pools = new Map<string, Pool>();
  private histories = new Map<string, History>();
  /**
   * The first result of an attach or detach is the whole network, attachments included:
   * kept as its JSON text, a network of n instances held O(n) per attach, O(n²) in all
   * (about 3 GB at 20,000). Kept as a version of the attachment history instead.
   */
  private readonly keepAttachments = {
    save: (network: Network): AttachmentsAt => ({
      networkId: network.id,
      version: this.histories.get(network.id)!.log.length,
    }),
    load: (saved: unknown): Network => {
      // A state file from before histories were kept holds the network itself.
      if ((saved as Partial<Network>).attachments !== undefined) return saved as Network;
      const { networkId, version } = saved as AttachmentsAt;
      const { base, log } = this.histories.get(networkId)!;
      const attached = new Set<string>();
      for (const change of log.slice(0, version)) {
        if (change[0] === '+') attached.add(change.slice(1));
        else attached.delete(change.slice(1));
      }
      return { ...base, attachments: [...attached] };
    },
  };

  /** @param cloud shared core of the simulated cloud */
  constructor(private readonly cloud: SimCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('network', 'ping', options);
  }

  /** @inheritdoc */
  createNetwork(spec: NetworkSpec, options: MutationOptions): Promise<Network> {
    return this.cloud.mutate('network', 'createNetwork', `network/name:${spec.name}`, spec, options, () => {
      checkSubnets(spec);
      const network: Network = {
        ...spec,
        id: this.cloud.newId('net'),
        attachments: [],
        createdAt: this.cloud.wallClock(),
      };
      this.networks.set(network.id, network);
      this.pools.set(network.id, { used: new Set(), next: {} });
      this.histories.set(network.id, { base: withoutAttachments(network), log: [] });
      return network;
    });
  }

  /** @inheritdoc */
  async getNetwork(id: string, options?: CallOptions): Promise<Network> {
    await this.cloud.enter('network', 'getNetwork', options, `network/${id}`);
    return this.find(id);
  }

  /** @inheritdoc */
  async listNetworks(options?: ListOptions): Promise<Page<Network>> {
    await this.cloud.enter('network', 'listNetworks', options);
    return this.networks.page(options);
  }

  /** @inheritdoc */
  deleteNetwork(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('network', 'deleteNetwork', `network/${id}`, { id }, options, () => {
      if (this.find(id).attachments.length > 0)
        throw new ConflictError(`network/${id} has attached instances`);
      this.networks.delete(id);
      this.pools.delete(id);
    });
  }

  /** @inheritdoc */
  allocateIp(networkId: string, options: AllocateOptions): Promise<IpAllocation> {
    const params = { networkId, ...(options.subnet === undefined ? {} : { subnet: options.subnet }) };
    return this.cloud.mutate('network', 'allocateIp', `network/${networkId}`, params, options, () => {
      const network = this.find(networkId);
      const subnet =
        options.subnet === undefined
          ? network.subnets?.[0]
          : network.subnets?.find((s) => s.name === options.subnet);
      if (options.subnet !== undefined && subnet === undefined) {
        throw new NotFoundError(`network/${networkId}/subnet/${options.subnet}`);
      }
      const range = parseCidr(subnet?.cidr ?? network.cidr);
      const pool = this.pools.get(networkId)!;
      const key = subnet?.name ?? '';
      const hosts = hostCount(range);
      for (let tried = 0; tried < hosts; tried++) {
        const index = ((pool.next[key] ?? 0) + tried) % hosts;
        const address = hostAddress(range, index)!;
        if (!pool.used.has(address)) {
          pool.used.add(address);
          pool.next[key] = index + 1;
          return { networkId, address, ...(subnet === undefined ? {} : { subnet: subnet.name }) };
        }
      }
      throw new ConflictError(
        `network/${networkId}${subnet ? ` subnet ${subnet.name}` : ''} has no free address`,
      );
    });
  }

  /** @inheritdoc */
  releaseIp(allocation: IpAllocation, options: MutationOptions): Promise<void> {
    const resource = `network/${allocation.networkId}`;
    return this.cloud.mutate('network', 'releaseIp', resource, allocation, options, () => {
      this.find(allocation.networkId);
      if (!this.pools.get(allocation.networkId)!.used.delete(allocation.address)) {
        throw new NotFoundError(`address/${allocation.address}`);
      }
    });
  }

  /** @inheritdoc */
  attach(attachment: NetworkAttachment, options: MutationOptions): Promise<Network> {
    return this.cloud.mutate(
      'network',
      'attach',
      `network/${attachment.networkId}`,
      attachment,
      options,
      () => {
        const network = this.find(attachment.networkId);
        if (network.attachments.includes(attachment.instanceId)) return network;
        this.histories.get(network.id)!.log.push(`+${attachment.instanceId}`);
        return this.save({ ...network, attachments: [...network.attachments, attachment.instanceId] });
      },
      this.keepAttachments,
    );
  }

  /** @inheritdoc */
  detach(attachment: NetworkAttachment, options: MutationOptions): Promise<Network> {
    return this.cloud.mutate(
      'network',
      'detach',
      `network/${attachment.networkId}`,
      attachment,
      options,
      () => {
        const network = this.find(attachment.networkId);
        if (!network.attachments.includes(attachment.instanceId)) return network;
        this.histories.get(network.id)!.log.push(`-${attachment.instanceId}`);
        return this.save({
          ...network,
          attachments: network.attachments.filter((i) => i !== attachment.instanceId),
        });
      },
      this.keepAttachments,
    );
  }

  /** Every network that exists. */
  all(): Network[] {
    return [...this.networks.values()];
  }

  /** Addresses allocated in a network. */
  allocations(networkId: string): string[] {
    return [...(this.pools.get(networkId)?.used ?? [])];
  }

  /** The network state, for saving. */
  exportState(): NetworkState {
    return {
      networks: this.all(),
      pools: [...this.pools].map(([id, pool]) => [id, { used: [...pool.used], next: { ...pool.next } }]),
      histories: [...this.histories],
    };
  }

  /** Restores a saved state. */
  importState(state: NetworkState): void {
    this.networks = new Catalog(state.networks.map((n) => [n.id, n]));
    this.pools = new Map(
      state.pools.map(([id, pool]) => [id, { used: new Set(pool.used), next: pool.next }]),
    );
    // A file from before histories were kept: each network's history starts where it is.
    this.histories = new Map(
      state.histories?.map(([id, { base, log }]) => [id, { base, log: [...log] }]) ??
        state.networks.map((n) => [
          n.id,
          { base: withoutAttachments(n), log: n.attachments.map((i) => `+${i}`) },
        ]),
    );
  }

  private save(network: Network): Network {
    this.networks.set(network.id, network);
    return network;
  }

  private find(id: string): Network {
    const network = this.networks.get(id);
    if (network === undefined) throw new NotFoundError(`network/${id}`);
    return network;
  }
}
