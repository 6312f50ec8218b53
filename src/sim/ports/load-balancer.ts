// Simulated load-balancer backend.

import { InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type { InstanceState } from '../../core/ports/compute.js';
import {
  LISTENER_PROTOCOLS,
  type Listener,
  type LoadBalancer,
  type LoadBalancerPort,
  type LoadBalancerSpec,
  type Target,
  type TargetHealth,
} from '../../core/ports/load-balancer.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';

/** The saved form of the load-balancer state. */
export interface LoadBalancerState {
  readonly balancers: readonly LoadBalancer[];
}

/**
 * Simulated load balancers. A target that names its instance is healthy while that
 * instance is running; a bare address is taken as healthy (nothing to check it against).
 */
export class SimLoadBalancer implements LoadBalancerPort {
  private balancers = new Catalog<LoadBalancer>();

  /**
   * @param cloud shared core of the simulated cloud
   * @param instanceState the state of an instance, undefined when it does not exist
   */
  constructor(
    private readonly cloud: SimCloud,
    private readonly instanceState: (id: string) => InstanceState | undefined = () => 'running',
  ) {}

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
        const listeners = listenersOf(spec);
        return this.save({
          name: spec.name,
          listenPort: listeners[0]!.port,
          listeners,
          ...(spec.labels === undefined ? {} : { labels: spec.labels }),
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
    await this.cloud.enter('loadBalancer', 'getLoadBalancer', options, `lb/${id}`);
    return this.find(id);
  }

  /** @inheritdoc */
  async listLoadBalancers(options?: ListOptions): Promise<Page<LoadBalancer>> {
    await this.cloud.enter('loadBalancer', 'listLoadBalancers', options);
    return this.balancers.page(options);
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
    await this.cloud.enter('loadBalancer', 'getTargetHealth', options, `lb/${id}`);
    return this.find(id).targets.map((target) => ({
      target,
      healthy: target.instanceId === undefined || this.instanceState(target.instanceId) === 'running',
    }));
  }

  /** Every balancer that exists. */
  all(): LoadBalancer[] {
    return [...this.balancers.values()];
  }

  /** The load-balancer state, for saving. */
  exportState(): LoadBalancerState {
    return { balancers: this.all() };
  }

  /** Restores a saved state. */
  importState(state: LoadBalancerState): void {
    // A world saved before balancers had listeners has only `listenPort`: one TCP listener.
    const withListeners = (b: LoadBalancer): LoadBalancer =>
      b.listeners === undefined ? { ...b, listeners: [{ port: b.listenPort, protocol: 'tcp' }] } : b;
    this.balancers = new Catalog(state.balancers.map((b) => [b.id, withListeners(b)]));
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

/** Most listeners one balancer has. */
const MAX_LISTENERS = 16;

/**
 * The listeners a spec asks for, checked: exactly one of `listenPort` and `listeners`,
 * 1 to 16 listeners, ports 1 to 65535, and no two on one port of one transport (`udp`, or
 * TCP for `tcp`, `http` and `https`), as a real balancer would refuse them.
 */
export function listenersOf(spec: LoadBalancerSpec): Listener[] {
  if ((spec.listenPort === undefined) === (spec.listeners === undefined)) {
    throw new InvalidInputError('listeners: give exactly one of listenPort and listeners');
  }
  const listeners = spec.listeners ?? [{ port: spec.listenPort!, protocol: 'tcp' as const }];
  if (listeners.length < 1 || listeners.length > MAX_LISTENERS) {
    throw new InvalidInputError(`listeners: a balancer has 1 to ${MAX_LISTENERS} listeners`);
  }
  const taken = new Set<string>();
  return listeners.map(({ port, protocol }, i) => {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new InvalidInputError(`listeners[${i}].port: bad port ${port}`);
    }
    if (!LISTENER_PROTOCOLS.includes(protocol)) {
      throw new InvalidInputError(`listeners[${i}].protocol: bad protocol ${String(protocol)}`);
    }
    const key = `${protocol === 'udp' ? 'udp' : 'tcp'}/${port}`;
    if (taken.has(key)) {
      throw new InvalidInputError(`listeners[${i}].port: two listeners on ${key}`);
    }
    taken.add(key);
    return { port, protocol };
  });
}
