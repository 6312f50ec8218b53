// In-memory network backend.

import { ConflictError, InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type {
  IpAllocation,
  Network,
  NetworkAttachment,
  NetworkPort,
  NetworkSpec,
} from '../../core/ports/network.js';
import { type MemoryCloud, page } from './cloud.js';

/** In-memory networks; addresses are handed out from the /24 of the network's CIDR. */
export class MemoryNetwork implements NetworkPort {
  private readonly networks = new Map<string, Network>();
  private readonly allocated = new Map<string, Set<string>>();

  /** @param cloud shared state of the in-memory cloud */
  constructor(private readonly cloud: MemoryCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('network', 'ping', options);
  }

  /** @inheritdoc */
  createNetwork(spec: NetworkSpec, options: MutationOptions): Promise<Network> {
    return this.cloud.mutate('network', 'createNetwork', `network/name:${spec.name}`, spec, options, () => {
      if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(spec.cidr)) throw new InvalidInputError(`bad CIDR ${spec.cidr}`);
      const network: Network = {
        ...spec,
        id: this.cloud.newId('net'),
        attachments: [],
        createdAt: this.cloud.wallClock(),
      };
      this.networks.set(network.id, network);
      this.allocated.set(network.id, new Set());
      return network;
    });
  }

  /** @inheritdoc */
  async getNetwork(id: string, options?: CallOptions): Promise<Network> {
    await this.cloud.enter('network', 'getNetwork', options);
    return this.find(id);
  }

  /** @inheritdoc */
  async listNetworks(options?: ListOptions): Promise<Page<Network>> {
    await this.cloud.enter('network', 'listNetworks', options);
    return page(this.networks.values(), options);
  }

  /** @inheritdoc */
  deleteNetwork(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('network', 'deleteNetwork', `network/${id}`, { id }, options, () => {
      if (this.find(id).attachments.length > 0)
        throw new ConflictError(`network/${id} has attached instances`);
      this.networks.delete(id);
      this.allocated.delete(id);
    });
  }

  /** @inheritdoc */
  allocateIp(networkId: string, options: MutationOptions): Promise<IpAllocation> {
    return this.cloud.mutate('network', 'allocateIp', `network/${networkId}`, { networkId }, options, () => {
      const network = this.find(networkId);
      const used = this.allocated.get(networkId)!;
      const prefix = network.cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
      for (let host = 2; host < 255; host++) {
        const address = `${prefix}.${host}`;
        if (!used.has(address)) {
          used.add(address);
          return { networkId, address };
        }
      }
      throw new ConflictError(`network/${networkId} has no free address`);
    });
  }

  /** @inheritdoc */
  releaseIp(allocation: IpAllocation, options: MutationOptions): Promise<void> {
    const resource = `network/${allocation.networkId}`;
    return this.cloud.mutate('network', 'releaseIp', resource, allocation, options, () => {
      this.find(allocation.networkId);
      if (!this.allocated.get(allocation.networkId)!.delete(allocation.address)) {
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
        return this.save({ ...network, attachments: [...network.attachments, attachment.instanceId] });
      },
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
        return this.save({
          ...network,
          attachments: network.attachments.filter((i) => i !== attachment.instanceId),
        });
      },
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
