// In-memory load-balancer backend.

import { InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type {
  LoadBalancer,
  LoadBalancerPort,
  LoadBalancerSpec,
  Target,
  TargetHealth,
} from '../../core/ports/load-balancer.js';
import { type MemoryCloud, page } from './cloud.js';

/** In-memory load balancers; every target reports healthy. */
export class MemoryLoadBalancer implements LoadBalancerPort {
  private readonly balancers = new Map<string, LoadBalancer>();

  /** @param cloud shared state of the in-memory cloud */
  constructor(private readonly cloud: MemoryCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('loadBalancer', 'ping', options);
  }

  /** @inheritdoc */
  createLoadBalancer(spec: LoadBalancerSpec, options: MutationOptions): Promise<LoadBalancer> {
    return this.cloud.mutate(
      'loadBalancer',
      'createLoadBalancer',
      `lb/name:${spec.name}`,
      spec,
      options,
      () => {
        if (!Number.isInteger(spec.listenPort) || spec.listenPort < 1 || spec.listenPort > 65_535) {
          throw new InvalidInputError(`bad port ${spec.listenPort}`);
        }
        return this.save({
          ...spec,
          id: this.cloud.newId('lb'),
          targets: [],
          revision: 0,
          createdAt: this.cloud.wallClock(),
        });
      },
    );
  }

  /** @inheritdoc */
  async getLoadBalancer(id: string, options?: CallOptions): Promise<LoadBalancer> {
    await this.cloud.enter('loadBalancer', 'getLoadBalancer', options);
    return this.find(id);
  }

  /** @inheritdoc */
  async listLoadBalancers(options?: ListOptions): Promise<Page<LoadBalancer>> {
    await this.cloud.enter('loadBalancer', 'listLoadBalancers', options);
    return page(this.balancers.values(), options);
  }

  /** @inheritdoc */
  deleteLoadBalancer(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('loadBalancer', 'deleteLoadBalancer', `lb/${id}`, { id }, options, () => {
      this.find(id);
      this.balancers.delete(id);
    });
  }

  /** @inheritdoc */
  updateTargets(id: string, targets: readonly Target[], options: MutationOptions): Promise<LoadBalancer> {
    return this.cloud.mutate('loadBalancer', 'updateTargets', `lb/${id}`, { id, targets }, options, () => {
      const balancer = this.find(id);
      return this.save({ ...balancer, targets: [...targets], revision: balancer.revision + 1 });
    });
  }

  /** @inheritdoc */
  async getTargetHealth(id: string, options?: CallOptions): Promise<readonly TargetHealth[]> {
    await this.cloud.enter('loadBalancer', 'getTargetHealth', options);
    return this.find(id).targets.map((target) => ({ target, healthy: true }));
  }

  private save(balancer: LoadBalancer): LoadBalancer {
    this.balancers.set(balancer.id, balancer);
    return balancer;
  }

  private find(id: string): LoadBalancer {
    const balancer = this.balancers.get(id);
    if (balancer === undefined) throw new NotFoundError(`lb/${id}`);
    return balancer;
  }
}
