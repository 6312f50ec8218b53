// The load-balancer port: balancers and their target sets.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/** A backend target of a balancer. */
export interface Target {
  /** Address of the target. */
  readonly address: string;
  /** Port of the target. */
  readonly port: number;
  /** Relative weight; default 1. */
  readonly weight?: number;
  /** The instance behind the address; when given, the target is healthy while it runs. */
  readonly instanceId?: string;
}

/** What to create. */
export interface LoadBalancerSpec {
  /** Human name. */
  readonly name: string;
  /** Port the balancer listens on. */
  readonly listenPort: number;
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A load balancer. */
export interface LoadBalancer extends LoadBalancerSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** Current targets. */
  readonly targets: readonly Target[];
  /** Grows with every target update. */
  readonly revision: number;
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** Health of one target. */
export interface TargetHealth {
  /** The target. */
  readonly target: Target;
  /** Whether it passes the balancer's checks. */
  readonly healthy: boolean;
}

/** Load-balancer backend. */
export interface LoadBalancerPort extends Pingable {
  /** Creates a balancer with no targets. */
  createLoadBalancer(spec: LoadBalancerSpec, options: MutationOptions): Promise<LoadBalancer>;
  /** Reads a balancer. */
  getLoadBalancer(id: string, options?: CallOptions): Promise<LoadBalancer>;
  /** Lists balancers. */
  listLoadBalancers(options?: ListOptions): Promise<Page<LoadBalancer>>;
  /** Deletes a balancer. */
  deleteLoadBalancer(id: string, options: MutationOptions): Promise<void>;
  /** Replaces the target set (a deploy); the revision grows. */
  updateTargets(id: string, targets: readonly Target[], options: MutationOptions): Promise<LoadBalancer>;
  /** Health of each target. */
  getTargetHealth(id: string, options?: CallOptions): Promise<readonly TargetHealth[]>;
}
