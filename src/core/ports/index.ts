// The backend ports of the control plane: what the core asks of infrastructure, in its own
// words. Adapters (the in-memory simulator, a simulator client, real clouds) implement them.

import type { ComputePort } from './compute.js';
import type { DatabasePort } from './database.js';
import type { DnsPort } from './dns.js';
import type { LoadBalancerPort } from './load-balancer.js';
import type { NetworkPort } from './network.js';
import type { RunnerPort } from './runner.js';
import type { StoragePort } from './storage.js';
import type { WebhookPort } from './webhook.js';

export type * from './common.js';
export type * from './compute.js';
export type * from './database.js';
export type * from './dns.js';
export type * from './load-balancer.js';
export type * from './network.js';
export type * from './runner.js';
export type * from './storage.js';
export type * from './webhook.js';

/** The backends, by kind. */
export interface BackendPorts {
  /** Instances. */
  readonly compute: ComputePort;
  /** Networks and addresses. */
  readonly network: NetworkPort;
  /** Volumes. */
  readonly storage: StoragePort;
  /** Zones and records. */
  readonly dns: DnsPort;
  /** Load balancers. */
  readonly loadBalancer: LoadBalancerPort;
  /** Managed database clusters. */
  readonly database: DatabasePort;
  /** Outbound HTTP calls (cron jobs' targets). */
  readonly webhook: WebhookPort;
  /** Pipeline runs. */
  readonly runner: RunnerPort;
}

/** Name of a backend kind. */
export type BackendKind = keyof BackendPorts;
