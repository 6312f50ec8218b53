// The in-memory cloud: the five backends over one shared core (faults, tokens, audit).

import type { BackendPorts } from '../../core/ports/index.js';
import { MemoryCloud, type MemoryCloudOptions } from './cloud.js';
import { MemoryCompute, type MemoryComputeOptions } from './compute.js';
import { MemoryDns } from './dns.js';
import { MemoryLoadBalancer } from './load-balancer.js';
import { MemoryNetwork } from './network.js';
import { MemoryStorage } from './storage.js';

export * from './cloud.js';
export { MemoryCompute, type MemoryComputeOptions } from './compute.js';
export { MemoryDns } from './dns.js';
export { MemoryLoadBalancer } from './load-balancer.js';
export { MemoryNetwork } from './network.js';
export { MemoryStorage } from './storage.js';

/** The in-memory cloud and its five raw (unwrapped) backends. */
export interface MemoryBackends extends BackendPorts {
  /** Fault switches, audit log and observed aborts. */
  readonly cloud: MemoryCloud;
  /** The compute backend, with its log-writing handle. */
  readonly compute: MemoryCompute;
}

/** Builds an in-memory cloud. */
export function createMemoryBackends(
  options: MemoryCloudOptions & MemoryComputeOptions = {},
): MemoryBackends {
  const cloud = new MemoryCloud(options);
  return {
    cloud,
    compute: new MemoryCompute(cloud, options),
    network: new MemoryNetwork(cloud),
    storage: new MemoryStorage(cloud),
    dns: new MemoryDns(cloud),
    loadBalancer: new MemoryLoadBalancer(cloud),
  };
}
