// The backends the application uses: the five ports, already wrapped in their resilience
// policies. The application calls only `createBackends`, so the raw ports are reachable
// only through the wrapper.

import type { Registry } from 'prom-client';
import type { BackendKind, BackendPorts } from '../core/ports/index.js';
import type { BreakerSnapshot } from '../ha/resilience/breaker/circuit-breaker.js';
import type { BulkheadSnapshot } from '../ha/resilience/bulkhead.js';
import type { Scheduler } from '../ha/resilience/clock.js';
import { createResilienceMetrics } from '../ha/resilience/metrics.js';
import { createSimBackends, type SimCloud } from '../sim/index.js';
import { ContainmentSampler } from './containment.js';
import { createHttpBackends, type SimClientOptions } from './http/index.js';
import {
  computeOperations,
  databaseOperations,
  dnsOperations,
  loadBalancerOperations,
  networkOperations,
  runnerOperations,
  storageOperations,
  webhookOperations,
} from './operations.js';
import {
  type BackendResilienceOptions,
  type OperationOverrides,
  type OperationTable,
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
  database: 10,
  webhook: 10,
  runner: 10,
};

/** Resilience settings of one backend, with per-operation overrides. */
export interface BackendOptions<P> extends BackendResilienceOptions {
  /** Overrides of operation timeouts and idempotency. */
  readonly operations?: OperationOverrides<P>;
}

/** Options of {@link createBackends}. */
export interface CreateBackendsOptions {
  /**
   * The raw ports to wrap. Default: a fresh in-process simulated cloud. Handing in
   * `memory` instead keeps its fault rules and audit in the caller's hands.
   */
  readonly raw?: BackendPorts;
  /** URL of a `stratus sim` whose ports to wrap (when `raw` is not given). */
  readonly cloudUrl?: string;
  /** The node id the simulator's audit records as the caller of destructive calls. */
  readonly caller?: string;
  /** An in-process simulated cloud built by the caller (tests and the embedded mode). */
  readonly memory?: { readonly cloud: SimCloud } & BackendPorts;
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
  /** Managed-database settings. */
  readonly database?: BackendOptions<BackendPorts['database']>;
  /** Webhook settings. */
  readonly webhook?: BackendOptions<BackendPorts['webhook']>;
  readonly runner?: BackendOptions<BackendPorts['runner']>;
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
  /** Fail-fast and cross-backend latency samples of every backend (G6; the breaker report). */
  readonly containment: ContainmentSampler;
  /** The policies of each backend (manual isolate/reset, events). */
  readonly policies: { readonly [K in BackendKind]: Omit<ResilientBackend<BackendPorts[K]>, 'port'> };
  /** The simulated cloud when the backends are simulated in process. */
  readonly memory?: SimCloud;
}

function merge(defaults: BackendResilienceOptions | undefined, own: BackendResilienceOptions | undefined) {
  return {
    breaker: { ...defaults?.breaker, ...own?.breaker },
    bulkhead: { ...defaults?.bulkhead, ...own?.bulkhead },
    retry: { ...defaults?.retry, ...own?.retry },
  };
}

/** The default operation table of each backend. */
const OPERATIONS: { readonly [K in BackendKind]: OperationTable<BackendPorts[K]> } = {
  compute: computeOperations,
  network: networkOperations,
  storage: storageOperations,
  dns: dnsOperations,
  loadBalancer: loadBalancerOperations,
  database: databaseOperations,
  webhook: webhookOperations,
  runner: runnerOperations,
};

/** Every backend kind, in a fixed order. */
const KINDS = Object.keys(OPERATIONS) as BackendKind[];

type Wrapped = { [K in BackendKind]: ResilientBackend<BackendPorts[K]> };

function httpOptions(options: CreateBackendsOptions): SimClientOptions {
  return { url: options.cloudUrl!, ...(options.caller === undefined ? {} : { caller: options.caller }) };
}

/** Builds the five backends, each wrapped in its breaker, bulkhead, timeouts and retries. */
export function createBackends(options: CreateBackendsOptions = {}): Backends {
  const remote =
    options.raw ?? (options.cloudUrl === undefined ? undefined : createHttpBackends(httpOptions(options)));
  const memory = remote === undefined ? (options.memory ?? createSimBackends()) : undefined;
  const raw: BackendPorts = remote ?? memory!;
  // Generic in the kind, so that each port meets its own operation table and overrides
  // and the result keeps its port type (a loop over the kinds would need a cast).
  // G6's figures: fail-fast refusals and the other backends' latencies while one stalls.
  const containment = new ContainmentSampler({
    breakerOpen: (kind) => wrapped[kind as BackendKind].breaker.state !== 'closed',
  });
  const wrap = <K extends BackendKind>(kind: K): ResilientBackend<BackendPorts[K]> => {
    const own: BackendOptions<BackendPorts[K]> | undefined = options[kind];
    return resilient(
      kind,
      raw[kind],
      withOverrides(OPERATIONS[kind], own?.operations),
      DEFAULT_BULKHEADS[kind],
      merge(options.defaults, own),
      options.scheduler,
      containment,
    );
  };
  const wrapped: Wrapped = {
    compute: wrap('compute'),
    network: wrap('network'),
    storage: wrap('storage'),
    dns: wrap('dns'),
    loadBalancer: wrap('loadBalancer'),
    database: wrap('database'),
    webhook: wrap('webhook'),
    runner: wrap('runner'),
  };
  const backends = KINDS.map((kind) => [kind, wrapped[kind]] as const);
  if (options.registry !== undefined) {
    const metrics = createResilienceMetrics(options.registry);
    for (const [, backend] of backends) {
      metrics.observeBreaker(backend.breaker);
      metrics.observeBulkhead(backend.bulkhead);
      metrics.observeRetry(backend.retry);
      for (const timeout of backend.timeouts.values()) metrics.observeTimeout(timeout);
    }
  }
  const byKind = <T>(view: (backend: Wrapped[BackendKind]) => T) =>
    Object.fromEntries(backends.map(([kind, backend]) => [kind, view(backend)])) as Record<BackendKind, T>;
  const policies = byKind(({ port: _, ...rest }) => rest) as Backends['policies'];
  return {
    compute: wrapped.compute.port,
    network: wrapped.network.port,
    storage: wrapped.storage.port,
    dns: wrapped.dns.port,
    loadBalancer: wrapped.loadBalancer.port,
    database: wrapped.database.port,
    webhook: wrapped.webhook.port,
    runner: wrapped.runner.port,
    policies,
    containment,
    ...(memory === undefined ? {} : { memory: memory.cloud }),
    health: () => byKind((b) => ({ breaker: b.breaker.snapshot(), bulkhead: b.bulkhead.snapshot() })),
  };
}

export type {
  BackendResilienceOptions,
  OperationPolicy,
  OperationTable,
  ResilientBackend,
} from './resilient.js';
export { classifyBackendError, isTransientBackendError, resilient } from './resilient.js';
