// The simulated cloud: the backends over one shared core (profile, fault rules,
// client tokens, fencing, audit). In process it serves tests and the embedded mode; behind
// `stratus sim` it is the cloud many replicas share.

import type { BackendPorts } from '../core/ports/index.js';
import { SimCloud, type SimCloudOptions } from './cloud/cloud.js';
import { SimCompute, type SimComputeOptions } from './ports/compute.js';
import { SimDatabase } from './ports/database.js';
import { SimDns } from './ports/dns.js';
import { SimLoadBalancer } from './ports/load-balancer.js';
import { SimNetwork } from './ports/network.js';
import { SimRunner } from './ports/runner.js';
import { SimStorage } from './ports/storage.js';
import { SimWebhook } from './ports/webhook.js';

export type { AuditEntry, AuditFilter, AuditOutcome } from './audit/audit-log.js';
export { type AuditSummary, summarizeAudit } from './audit/summary.js';
export { type TwoWritableViolation, twoWritable } from './audit/two-writable.js';
export type { Delay } from './behaviour/delay.js';
export type { FaultEffect, FaultRule, FaultRuleInput } from './behaviour/faults.js';
export { DEFAULT_PROFILE, FAST_PROFILE, PROFILES, type Profile, parseProfile } from './behaviour/profile.js';
export * from './cloud/cloud.js';
export { SimCompute, type SimComputeOptions } from './ports/compute.js';
export { rolesResource, SimDatabase, type WritableChange } from './ports/database.js';
export { SimDns } from './ports/dns.js';
export { SimLoadBalancer } from './ports/load-balancer.js';
export { SimNetwork } from './ports/network.js';
export { SimRunner } from './ports/runner.js';
export { SimStorage } from './ports/storage.js';
export { type Delivery, SimWebhook } from './ports/webhook.js';

/** The simulated cloud and its five raw (unwrapped) backends. */
export interface SimBackends extends BackendPorts {
  /** Profile, fault rules, audit and observed aborts. */
  readonly cloud: SimCloud;
  /** Compute, with its guest handles (logs, crashes, load). */
  readonly compute: SimCompute;
  /** Networks, with their allocations. */
  readonly network: SimNetwork;
  /** Volumes. */
  readonly storage: SimStorage;
  /** Zones, with the resolver. */
  readonly dns: SimDns;
  /** Balancers. */
  readonly loadBalancer: SimLoadBalancer;
  /** Managed databases, with their fault hooks and writable history. */
  readonly database: SimDatabase;
  /** Webhook endpoints, with their deliveries. */
  readonly webhook: SimWebhook;
  /** Pipeline runs. */
  readonly runner: SimRunner;
}

/** Builds a simulated cloud (the `fast` profile unless told otherwise). */
export function createSimBackends(options: SimCloudOptions & SimComputeOptions = {}): SimBackends {
  const cloud = new SimCloud(options);
  const compute = new SimCompute(cloud, options);
  const stateOf = (id: string) => compute.peek(id)?.state;
  return {
    cloud,
    compute,
    network: new SimNetwork(cloud),
    storage: new SimStorage(cloud, (id) => stateOf(id) !== undefined),
    dns: new SimDns(cloud),
    loadBalancer: new SimLoadBalancer(cloud, stateOf),
    database: new SimDatabase(cloud),
    webhook: new SimWebhook(cloud),
    runner: new SimRunner(cloud),
  };
}
