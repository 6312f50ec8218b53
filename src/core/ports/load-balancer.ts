// The load-balancer port: balancers, their listeners and their target sets.

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

/** What a listener speaks. `tcp`, `http` and `https` share the TCP ports; `udp` has its own. */
export type ListenerProtocol = 'tcp' | 'udp' | 'http' | 'https';

/** The protocols a listener may speak. */
export const LISTENER_PROTOCOLS: readonly ListenerProtocol[] = ['tcp', 'udp', 'http', 'https'];

/** One (port, protocol) a balancer accepts traffic on; every listener forwards to the targets. */
export interface Listener {
  /** Port, 1 to 65535. */
  readonly port: number;
  /** Protocol. */
  readonly protocol: ListenerProtocol;
}

/** What to create: `listeners`, or `listenPort` as a shorthand for one `tcp` listener. */
export interface LoadBalancerSpec {
  /** Human name. */
  readonly name: string;
  /** Shorthand for `listeners: [{ port: listenPort, protocol: 'tcp' }]`. */
  readonly listenPort?: number;
  /** The listeners (1 to 16; no two on the same port and transport). */
  readonly listeners?: readonly Listener[];
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A load balancer. */
export interface LoadBalancer {
  /** Human name. */
  readonly name: string;
  /** The first listener's port (what a one-listener caller reads). */
  readonly listenPort: number;
  /** Every listener, in the order given. */
  readonly listeners: readonly Listener[];
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
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
