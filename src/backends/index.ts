// The backends the application uses: the five ports, already wrapped in their resilience
// policies. The application calls only `createBackends`, so the raw ports are reachable
// only through the wrapper.

import type { Registry } from 'prom-client';
import type { BackendKind, BackendPorts } from '../core/ports/index.js';
import type { BreakerSnapshot } from '../ha/resilience/breaker/circuit-breaker.js';
import type { BulkheadSnapshot } from '../ha/resilience/bulkhead.js';
import type { Scheduler } from '../ha/resilience/clock.js';
import { createResilienceMetrics } from '../ha/resilience/metrics.js';
import { createMemoryBackends, type MemoryCloud } from './memory/index.js';
import {
  computeOperations,
  dnsOperations,
  loadBalancerOperations,
  networkOperations,
  storageOperations,
} from './operations.js';
import {
  type BackendResilienceOptions,
  type OperationOverrides,
  type ResilientBackend,
  resilient,
  withOverrides,
} from './resilient.js';

/** Bulkhead sizes per backend, as the predecessor had them. */
export const DEFAULT_BULKHEADS: Readonly<Record<BackendKind, number>> = {
  compute: 20,
  network: 15,
  storage: 10,
  dns: 10,
  loadBalancer: 10,
};

/** Resilience settings of one backend, with per-operation overrides. */
export interface BackendOptions<P> extends BackendResilienceOptions {
  /** Overrides of operation timeouts and idempotency. */
  readonly operations?: OperationOverrides<P>;
}

/** Options of {@link createBackends}. */
export interface CreateBackendsOptions {
  /**
   * The raw ports to wrap. Default: a fresh in-memory cloud. Handing in `memory` instead
   * keeps its fault switches and audit log in the caller's hands.
   */
  readonly raw?: BackendPorts;
  /** An in-memory cloud built by the caller (tests and the embedded mode). */
  readonly memory?: { readonly cloud: MemoryCloud } & BackendPorts;
  /** Settings applied to every backend. */
  readonly defaults?: BackendResilienceOptions;
  /** Settings per backend, over `defaults`. */
  readonly compute?: BackendOptions<BackendPorts['compute']>;
  /** Network settings. */
  readonly network?: BackendOptions<BackendPorts['network']>;
  /** Storage settings. */
  readonly storage?: BackendOptions<BackendPorts['storage']>;
  /** DNS settings. */
  readonly dns?: BackendOptions<BackendPorts['dns']>;
  /** Load-balancer settings. */
  readonly loadBalancer?: BackendOptions<BackendPorts['loadBalancer']>;
  /** Where to export the policies' metrics (never prom-client's global registry). */
  readonly registry?: Registry;
  /** Clock and timers of every policy; default the process's. */
  readonly scheduler?: Scheduler;
}

/** Health of one backend's policies. */
export interface BackendHealth {
  /** The breaker. */
  readonly breaker: BreakerSnapshot;
  /** The bulkhead. */
  readonly bulkhead: BulkheadSnapshot;
}

/** The wrapped backends and a view of their policies. */
export interface Backends extends BackendPorts {
  /** Snapshots of every backend's breaker and bulkhead, for health checks and the API. */
  health(): Record<BackendKind, BackendHealth>;
  /** The policies of each backend (manual isolate/reset, events). */
  readonly policies: { readonly [K in BackendKind]: Omit<ResilientBackend<BackendPorts[K]>, 'port'> };
  /** The in-memory cloud when the backends are simulated in process. */
  readonly memory?: MemoryCloud;
}

function merge(defaults: BackendResilienceOptions | undefined, own: BackendResilienceOptions | undefined) {
  return {
    breaker: { ...defaults?.breaker, ...own?.breaker },
    bulkhead: { ...defaults?.bulkhead, ...own?.bulkhead },
    retry: { ...defaults?.retry, ...own?.retry },
  };
}

/** Builds the five backends, each wrapped in its breaker, bulkhead, timeouts and retries. */
export function createBackends(options: CreateBackendsOptions = {}): Backends {
  const memory = options.raw === undefined ? (options.memory ?? createMemoryBackends()) : undefined;
  const raw: BackendPorts = options.raw ?? memory!;
  const s = options.scheduler;
  const compute = resilient(
    'compute',
    raw.compute,
    withOverrides(computeOperations, options.compute?.operations),
    DEFAULT_BULKHEADS.compute,
    merge(options.defaults, options.compute),
    s,
  );
  const network = resilient(
    'network',
    raw.network,
    withOverrides(networkOperations, options.network?.operations),
    DEFAULT_BULKHEADS.network,
    merge(options.defaults, options.network),
    s,
  );
  const storage = resilient(
    'storage',
    raw.storage,
    withOverrides(storageOperations, options.storage?.operations),
    DEFAULT_BULKHEADS.storage,
    merge(options.defaults, options.storage),
    s,
  );
  const dns = resilient(
    'dns',
    raw.dns,
    withOverrides(dnsOperations, options.dns?.operations),
    DEFAULT_BULKHEADS.dns,
    merge(options.defaults, options.dns),
    s,
  );
  const loadBalancer = resilient(
    'loadBalancer',
    raw.loadBalancer,
    withOverrides(loadBalancerOperations, options.loadBalancer?.operations),
    DEFAULT_BULKHEADS.loadBalancer,
    merge(options.defaults, options.loadBalancer),
    s,
  );
  const all = { compute, network, storage, dns, loadBalancer };
  if (options.registry !== undefined) {
    const metrics = createResilienceMetrics(options.registry);
    for (const backend of Object.values(all)) {
      metrics.observeBreaker(backend.breaker);
      metrics.observeBulkhead(backend.bulkhead);
      metrics.observeRetry(backend.retry);
      for (const timeout of backend.timeouts.values()) metrics.observeTimeout(timeout);
    }
  }
  const policies = Object.fromEntries(
    Object.entries(all).map(([kind, { port: _, ...rest }]) => [kind, rest]),
  ) as Backends['policies'];
  return {
    compute: compute.port,
    network: network.port,
    storage: storage.port,
    dns: dns.port,
    loadBalancer: loadBalancer.port,
    policies,
    ...(memory === undefined ? {} : { memory: memory.cloud }),
    health() {
      const view = (b: {
        breaker: ResilientBackend<object>['breaker'];
        bulkhead: ResilientBackend<object>['bulkhead'];
      }) => ({
        breaker: b.breaker.snapshot(),
        bulkhead: b.bulkhead.snapshot(),
      });
      return {
        compute: view(compute),
        network: view(network),
        storage: view(storage),
        dns: view(dns),
        loadBalancer: view(loadBalancer),
      };
    },
  };
}

export type {
  BackendResilienceOptions,
  OperationPolicy,
  OperationTable,
  ResilientBackend,
} from './resilient.js';
export { classifyBackendError, isTransientBackendError, resilient } from './resilient.js';
