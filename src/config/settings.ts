import { hostname } from 'node:os';
import { DEFAULT_BULKHEADS } from '../backends/index.js';
import { DEFAULT_ACCOUNTING_MINUTE_MS } from '../controllers/accounting/controller.js';
import { defaultBackoff } from '../ha/leader/backoff.js';
import { defaultElectorSettings, defaultGuardSettings } from '../ha/leader/settings.js';
import { DEFAULT_SWEEPER_GRACE_MS } from '../ha/outbox/sweeper.js';
import { DEFAULT_VISIBILITY_TIMEOUT_MS } from '../ha/queue/port.js';
import { DEFAULT_LEASE_MS } from '../ha/worker/registrations.js';
import { WORKER_DEFAULTS } from '../ha/worker/settings.js';
import { integer, matching, millis, oneOf, urlWith, type ValueKind } from './value-kinds.js';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What a computed default may look at: the values given by the sources and the defaults of the
 * rows above it in the table, and the process id.
 */
export interface DefaultContext {
  readonly values: Readonly<Record<string, unknown>>;
  readonly pid: number;
}

/**
 * One setting: one row of the table that `--help`, the docs, the config file, the
 * environment and the flags all come from. Adding a setting is adding a row.
 */
export interface SettingRow<T> {
  /** The flag, without its dashes. */
  readonly flag: string;
  /** The environment variable. */
  readonly env: string;
  readonly kind: ValueKind<T>;
  /**
   * The value when no source gives one: the kernel's own default constant where the kernel
   * exports one, a function of the other settings, or undefined (none: the setting is off, or
   * the kernel applies its built-in default, stated in `kernelDefault`).
   */
  readonly default: T | ((context: DefaultContext) => T) | undefined;
  /** For a setting whose default lives inside the kernel and is not exported: that default, as text. */
  readonly kernelDefault?: string;
  /** What it does (one line of the table). */
  readonly meaning: string;
  /**
   * Where the value goes: a dotted option path under one component (`worker.heartbeatMs`),
   * read by `optionsAt`. Absent for the settings the process wiring reads by name.
   */
  readonly to?: string;
  /** False for the settings a config file may not set (the path of the file itself). */
  readonly inFile?: boolean;
}

type DefaultOf<T> = T | ((context: DefaultContext) => T) | undefined;

/** A row, keeping the type of its default (undefined or not) for {@link Config}. */
function row<T, const D extends DefaultOf<NoInfer<T>>>(
  r: Omit<SettingRow<T>, 'default'> & { readonly default: D },
): SettingRow<T> & { readonly default: D } {
  return r;
}

const defaultNodeIdOf = ({ pid }: DefaultContext) => defaultNodeId(pid);

/** hostname-pid, cut to the allowed characters and length. */
export function defaultNodeId(pid: number): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  const suffix = `-${pid}`;
  return `${host.slice(0, 63 - suffix.length) || 'node'}${suffix}`;
}

/**
 * How long /readyz answers 503 before the listener closes on a graceful shutdown. A replica
 * behind a load balancer (api or all on PostgreSQL) needs the balancer to see the 503 and stop
 * sending before the port closes: 5 s covers a balancer that checks every second and takes a
 * backend out after 3 failures, with room for its own propagation (Kubernetes endpoints). The
 * embedded default is one process with no balancer in front: it stops at once.
 */
export const DEFAULT_DRAIN_DELAY_MS = 5_000;
const defaultDrainDelay = ({ values }: DefaultContext) =>
  values.databaseUrl !== undefined && values.role !== 'worker'
    ? // Never more than half the shutdown deadline: the rest is for in-flight work to finish.
      Math.min(DEFAULT_DRAIN_DELAY_MS, Math.floor(Number(values.shutdownTimeoutMs) / 2))
    : 0;

const bulkhead = (kind: keyof typeof DEFAULT_BULKHEADS, flagName: string, envName: string) =>
  row({
    flag: `bulkhead-${flagName}`,
    env: `BULKHEAD_${envName}`,
    kind: integer(1, 10_000),
    default: DEFAULT_BULKHEADS[kind],
    meaning: `calls at once to the ${kind} backend`,
    to: `backends.${kind}.bulkhead.maxConcurrent`,
  });

/**
 * Every setting of `stratus start` and `stratus migrate`, in the order `--help` and the docs
 * list them.
 */
export const SETTINGS = {
  configFile: row({
    flag: 'config',
    env: 'STRATUS_CONFIG',
    kind: matching(/\S/, 'the path of a JSON file of settings'),
    default: undefined,
    meaning: 'JSON file of settings by name (flags and environment win over it)',
    inFile: false,
  }),
  role: row({ flag: 'role', env: 'ROLE', kind: oneOf(ROLES), default: 'all', meaning: 'api, worker or all' }),
  host: row({
    flag: 'host',
    env: 'HOST',
    kind: matching(/^[A-Za-z0-9.:-]+$/, 'an IP address or host name to listen on'),
    default: '127.0.0.1',
    meaning: 'interface the HTTP listener binds to (0.0.0.0 behind a load balancer)',
  }),
  port: row({
    flag: 'port',
    env: 'PORT',
    kind: integer(0, 65535),
    default: 8080,
    meaning: 'API port (roles api, all); 0 picks a free port',
  }),
  healthPort: row({
    flag: 'health-port',
    env: 'HEALTH_PORT',
    kind: integer(0, 65535),
    default: undefined,
    meaning: '/healthz, /readyz, /metrics on a worker (none by default)',
  }),
  nodeId: row({
    flag: 'node-id',
    env: 'NODE_ID',
    kind: matching(/^[A-Za-z0-9._-]{1,63}$/, '1 to 63 letters, digits, dots, underscores or dashes'),
    default: defaultNodeIdOf,
    kernelDefault: '<hostname>-<pid>',
    meaning: "this replica's name in logs, metrics, leadership and queue consumers",
  }),
  databaseUrl: row({
    flag: 'database-url',
    env: 'DATABASE_URL',
    kind: urlWith(['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// URL'),
    default: undefined,
    meaning: 'PostgreSQL URL; none runs the embedded database in the data dir',
  }),
  redisUrl: row({
    flag: 'redis-url',
    env: 'REDIS_URL',
    kind: urlWith(['redis:', 'rediss:'], 'a redis:// or rediss:// URL'),
    default: undefined,
    meaning: 'Redis URL (needs a database URL); none queues jobs in PostgreSQL',
  }),
  redisPrefix: row({
    flag: 'redis-prefix',
    env: 'REDIS_PREFIX',
    kind: matching(/^[A-Za-z0-9._:-]{1,64}$/, '1 to 64 letters, digits or ._:- characters'),
    default: 'stratus:',
    meaning: 'prefix of every Redis key (several deployments on one Redis)',
  }),
  cloudUrl: row({
    flag: 'cloud-url',
    env: 'CLOUD_URL',
    kind: urlWith(['http:', 'https:'], 'an http:// or https:// URL of a stratus sim'),
    default: undefined,
    meaning: 'a `stratus sim` to use as the cloud (replicas share one); none: the in-process cloud',
  }),
  dataDir: row({
    flag: 'data-dir',
    env: 'STRATUS_DATA_DIR',
    kind: matching(/\S/, 'a directory path'),
    default: './.stratus',
    meaning: 'where the embedded database lives',
  }),
  drillReportsDir: row({
    flag: 'drill-reports-dir',
    env: 'STRATUS_DRILL_REPORTS_DIR',
    kind: matching(/\S/, 'a directory path'),
    default: undefined,
    meaning:
      'a directory of drill run directories, served read-only on /v1/system/drill-reports and the console; none: not served',
  }),
  logLevel: row({
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: oneOf(LOG_LEVELS),
    default: 'info',
    meaning: 'least severe level logged',
  }),
  otlpEndpoint: row({
    flag: 'otlp-endpoint',
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    kind: urlWith(['http:', 'https:'], 'an http:// or https:// URL of an OpenTelemetry collector'),
    default: undefined,
    meaning: 'exports traces over OTLP/HTTP to <url>/v1/traces; none: no tracing',
  }),
  shutdownTimeoutMs: row({
    flag: 'shutdown-timeout-ms',
    env: 'SHUTDOWN_TIMEOUT_MS',
    kind: millis(100, 600_000),
    default: 30_000,
    meaning: 'graceful shutdown deadline, drain delay included',
  }),
  drainDelayMs: row({
    flag: 'drain-delay-ms',
    env: 'DRAIN_DELAY_MS',
    kind: millis(0, 300_000),
    default: defaultDrainDelay,
    kernelDefault: `${DEFAULT_DRAIN_DELAY_MS} for api and all on PostgreSQL, else 0`,
    meaning: 'on shutdown, /readyz answers 503 this long while requests are still served',
  }),

  workerConcurrency: row({
    flag: 'worker-concurrency',
    env: 'WORKER_CONCURRENCY',
    kind: integer(1, 10_000),
    default: WORKER_DEFAULTS.concurrency,
    meaning: 'jobs a worker runs at once (it leases as many more ahead)',
    to: 'worker.concurrency',
  }),
  jobLeaseMs: row({
    flag: 'job-lease-ms',
    env: 'JOB_LEASE_MS',
    kind: millis(100, 3_600_000),
    default: DEFAULT_LEASE_MS,
    meaning: "a job's ledger lease, renewed by every heartbeat (a kind may set its own)",
  }),
  jobHeartbeatMs: row({
    flag: 'job-heartbeat-ms',
    env: 'JOB_HEARTBEAT_MS',
    kind: millis(10, 600_000),
    default: WORKER_DEFAULTS.heartbeatMs,
    meaning: 'between two renewals of leases and message idle times',
    to: 'worker.heartbeatMs',
  }),
  jobReclaimMs: row({
    flag: 'job-reclaim-ms',
    env: 'JOB_RECLAIM_MS',
    kind: millis(10, 600_000),
    default: WORKER_DEFAULTS.reclaimMs,
    meaning: 'between two scans for messages idle past the visibility timeout',
    to: 'worker.reclaimMs',
  }),
  jobDrainMs: row({
    flag: 'job-drain-ms',
    env: 'JOB_DRAIN_MS',
    kind: millis(0, 600_000),
    default: WORKER_DEFAULTS.drainMs,
    meaning: 'on shutdown, how long running jobs may take before they are handed back',
    to: 'worker.drainMs',
  }),
  jobAbortGraceMs: row({
    flag: 'job-abort-grace-ms',
    env: 'JOB_ABORT_GRACE_MS',
    kind: millis(0, 600_000),
    default: WORKER_DEFAULTS.abortGraceMs,
    meaning: 'how long an aborted handler may take to settle before its slot is given up',
    to: 'worker.abortGraceMs',
  }),
  queueVisibilityTimeoutMs: row({
    flag: 'queue-visibility-timeout-ms',
    env: 'QUEUE_VISIBILITY_TIMEOUT_MS',
    kind: millis(100, 3_600_000),
    default: DEFAULT_VISIBILITY_TIMEOUT_MS,
    meaning: 'a received message not touched for this long is delivered again',
    to: 'queue.visibilityTimeoutMs',
  }),
  queueMaxDeliveries: row({
    flag: 'queue-max-deliveries',
    env: 'QUEUE_MAX_DELIVERIES',
    kind: integer(1, 1_000),
    default: WORKER_DEFAULTS.maxDeliveries,
    meaning: 'deliveries of one message before the worker fails its job for good and dead-letters it',
    to: 'worker.maxDeliveries',
  }),
  relayPollMs: row({
    flag: 'relay-poll-ms',
    env: 'RELAY_POLL_MS',
    kind: millis(10, 600_000),
    default: undefined,
    kernelDefault: '1000',
    meaning: 'outbox relay poll when no notification arrives',
    to: 'relay.pollMs',
  }),
  sweeperGraceMs: row({
    flag: 'sweeper-grace-ms',
    env: 'SWEEPER_GRACE_MS',
    kind: millis(100, 86_400_000),
    default: DEFAULT_SWEEPER_GRACE_MS,
    meaning: 'an outbox job not done and not leased for this long is sent again',
    to: 'sweeper.graceMs',
  }),
  sweeperIntervalMs: row({
    flag: 'sweeper-interval-ms',
    env: 'SWEEPER_INTERVAL_MS',
    kind: millis(100, 86_400_000),
    default: undefined,
    kernelDefault: 'a third of the grace',
    meaning: 'between two sweeps',
    to: 'sweeper.intervalMs',
  }),

  leaderHeartbeatMs: row({
    flag: 'leader-heartbeat-ms',
    env: 'LEADER_HEARTBEAT_MS',
    kind: millis(10, 60_000),
    default: defaultElectorSettings.heartbeatIntervalMs,
    meaning: 'how often the lock session confirms its locks (PostgreSQL)',
    to: 'elector.heartbeatIntervalMs',
  }),
  leaderRenewDeadlineMs: row({
    flag: 'leader-renew-deadline-ms',
    env: 'LEADER_RENEW_DEADLINE_MS',
    kind: millis(20, 120_000),
    default: defaultElectorSettings.renewDeadlineMs,
    meaning: 'a leader demotes itself when no heartbeat succeeded for this long',
    to: 'elector.renewDeadlineMs',
  }),
  leaderIdleSessionTimeoutMs: row({
    flag: 'leader-idle-session-timeout-ms',
    env: 'LEADER_IDLE_SESSION_TIMEOUT_MS',
    kind: millis(100, 600_000),
    default: defaultElectorSettings.idleSessionTimeoutMs,
    meaning: "the server ends a silent lock session after this: a hung leader's bound",
    to: 'elector.idleSessionTimeoutMs',
  }),
  fencedStatementTimeoutMs: row({
    flag: 'fenced-statement-timeout-ms',
    env: 'FENCED_STATEMENT_TIMEOUT_MS',
    kind: millis(10, 60_000),
    default: defaultElectorSettings.fencedStatementTimeoutMs,
    meaning: 'server-side bound of each statement in a fenced (leader-only) transaction',
    to: 'elector.fencedStatementTimeoutMs',
  }),
  fencedIdleTimeoutMs: row({
    flag: 'fenced-idle-timeout-ms',
    env: 'FENCED_IDLE_TIMEOUT_MS',
    kind: millis(10, 60_000),
    default: defaultElectorSettings.fencedIdleTimeoutMs,
    meaning: 'server-side bound of idle time inside a fenced transaction',
    to: 'elector.fencedIdleTimeoutMs',
  }),
  fencedDeadlineMs: row({
    flag: 'fenced-deadline-ms',
    env: 'FENCED_DEADLINE_MS',
    kind: millis(10, 600_000),
    default: defaultElectorSettings.fencedDeadlineMs,
    meaning: 'client-side deadline of a whole fenced transaction (a blackholed connection)',
    to: 'elector.fencedDeadlineMs',
  }),
  leaderStopGraceMs: row({
    flag: 'leader-stop-grace-ms',
    env: 'LEADER_STOP_GRACE_MS',
    kind: millis(0, 600_000),
    default: defaultGuardSettings.singletonStopGraceMs,
    meaning: 'after losing a term, how long a guard waits for its singleton to stop before giving it up',
    to: 'guard.singletonStopGraceMs',
  }),
  leaderBackoffMaxMs: row({
    flag: 'leader-backoff-max-ms',
    env: 'LEADER_BACKOFF_MAX_MS',
    kind: millis(10, 600_000),
    default: defaultBackoff.maxMs,
    meaning: 'longest wait before a guard campaigns again after a failed term',
    to: 'guard.backoff.maxMs',
  }),

  accountingMinuteMs: row({
    flag: 'accounting-minute-ms',
    env: 'ACCOUNTING_MINUTE_MS',
    kind: millis(100, 3_600_000),
    default: DEFAULT_ACCOUNTING_MINUTE_MS,
    meaning: 'length of the minute the accounting controller records usage by (shorter only for tests)',
    to: 'accounting.minuteMs',
  }),
  accountingResyncMs: row({
    flag: 'accounting-resync-ms',
    env: 'ACCOUNTING_RESYNC_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: 'a quarter of the accounting minute',
    meaning: 'between two passes of the accounting controller',
    to: 'accounting.resyncMs',
  }),
  computeResyncMs: row({
    flag: 'compute-resync-ms',
    env: 'COMPUTE_RESYNC_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '5 s',
    meaning:
      'between two passes of the autoscaling, lb-sync and healing controllers with nothing waking them',
    to: 'compute.resyncMs',
  }),
  autoscalingCpuSampleMs: row({
    flag: 'autoscaling-cpu-sample-ms',
    env: 'AUTOSCALING_CPU_SAMPLE_MS',
    kind: millis(0, 600_000),
    default: undefined,
    kernelDefault: '5000',
    meaning: "how long a group's CPU sample is used again while its running instances stay the same",
    to: 'autoscaling.cpuSampleMs',
  }),
  healingBackoffMs: row({
    flag: 'healing-backoff-ms',
    env: 'HEALING_BACKOFF_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '2 s',
    meaning: 'the wait after the first restart of a crashed instance, doubled after each',
    to: 'healing.backoffMs',
  }),

  replicaMonitorResyncMs: row({
    flag: 'replica-monitor-resync-ms',
    env: 'REPLICA_MONITOR_RESYNC_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '5000',
    meaning: 'between two passes of the replica monitor',
    to: 'replicaMonitor.resyncMs',
  }),
  replicaLagThresholdMs: row({
    flag: 'replica-lag-threshold-ms',
    env: 'REPLICA_LAG_THRESHOLD_MS',
    kind: millis(0, 3_600_000),
    default: undefined,
    kernelDefault: '10000',
    meaning: 'replication lag above which a managed database replica is reported lagging',
    to: 'replicaMonitor.lagThresholdMs',
  }),
  databaseFailoverThresholdMs: row({
    flag: 'database-failover-threshold-ms',
    env: 'DATABASE_FAILOVER_THRESHOLD_MS',
    kind: millis(0, 3_600_000),
    default: undefined,
    kernelDefault: '10000',
    meaning: "how long a managed database's primary must stay down before it is fenced and replaced",
    to: 'databaseFailover.thresholdMs',
  }),
  databaseFailoverResyncMs: row({
    flag: 'database-failover-resync-ms',
    env: 'DATABASE_FAILOVER_RESYNC_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '1000',
    meaning: 'between two passes of the database-failover controller',
    to: 'databaseFailover.resyncMs',
  }),
  gcGraceMs: row({
    flag: 'gc-grace-ms',
    env: 'GC_GRACE_MS',
    kind: millis(0, 30 * 86_400_000),
    default: undefined,
    kernelDefault: '600000',
    meaning: 'how long a backend object no resource owns is left before the garbage collector deletes it',
    to: 'gc.graceMs',
  }),
  gcResyncMs: row({
    flag: 'gc-resync-ms',
    env: 'GC_RESYNC_MS',
    kind: millis(10, 86_400_000),
    default: undefined,
    kernelDefault: '60000',
    meaning: 'between two passes of the garbage collector',
    to: 'gc.resyncMs',
  }),
  pipelinesResyncMs: row({
    flag: 'pipelines-resync-ms',
    env: 'PIPELINES_RESYNC_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '2000',
    meaning: 'longest wait between two passes of the pipelines controller (every 500 ms while a run goes)',
    to: 'pipelines.resyncMs',
  }),
  eventsRetentionMs: row({
    flag: 'events-retention-ms',
    env: 'EVENTS_RETENTION_MS',
    kind: millis(60_000, 3_650 * 86_400_000),
    default: undefined,
    kernelDefault: '604800000',
    meaning: 'how long events are kept (a watch resuming from an older one is told to list again)',
    to: 'housekeeping.retention.eventsMs',
  }),
  jobRetentionMs: row({
    flag: 'job-retention-ms',
    env: 'JOB_RETENTION_MS',
    kind: millis(3_600_000, 3_650 * 86_400_000),
    default: undefined,
    kernelDefault: '604800000',
    meaning: "how long a completed job's outbox and ledger rows and its operation are kept",
    to: 'housekeeping.retention.jobsMs',
  }),
  journalRetentionMs: row({
    flag: 'journal-retention-ms',
    env: 'JOURNAL_RETENTION_MS',
    kind: millis(3_600_000, 3_650 * 86_400_000),
    default: undefined,
    kernelDefault: '2592000000',
    meaning: "how long the leadership journal keeps an ended term (each key's newest stays)",
    to: 'housekeeping.retention.journalMs',
  }),
  logRetentionMs: row({
    flag: 'log-retention-ms',
    env: 'LOG_RETENTION_MS',
    kind: millis(60_000, 3_650 * 86_400_000),
    default: undefined,
    kernelDefault: '604800000',
    meaning: "how long instances' log lines are kept in the compute backend",
    to: 'housekeeping.retention.logsMs',
  }),
  housekeepingResyncMs: row({
    flag: 'housekeeping-resync-ms',
    env: 'HOUSEKEEPING_RESYNC_MS',
    kind: millis(1_000, 86_400_000),
    default: undefined,
    kernelDefault: '300000',
    meaning: "between two passes of housekeeping over the control plane's own tables",
    to: 'housekeeping.resyncMs',
  }),
  cronResyncMs: row({
    flag: 'cron-resync-ms',
    env: 'CRON_RESYNC_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '10000',
    meaning: 'longest wait between two passes of the cron controller (it also runs at every next slot)',
    to: 'cron.resyncMs',
  }),

  breakerFailures: row({
    flag: 'breaker-failures',
    env: 'BREAKER_FAILURES',
    kind: integer(1, 10_000),
    default: undefined,
    kernelDefault: '5',
    meaning: "consecutive failures that open a backend's breaker",
    to: 'backends.defaults.breaker.consecutiveFailures',
  }),
  breakerOpenMs: row({
    flag: 'breaker-open-ms',
    env: 'BREAKER_OPEN_MS',
    kind: millis(10, 3_600_000),
    default: undefined,
    kernelDefault: '30000',
    meaning: 'how long an open breaker fails calls fast before a probe',
    to: 'backends.defaults.breaker.openMs',
  }),
  bulkheadQueueTimeoutMs: row({
    flag: 'bulkhead-queue-timeout-ms',
    env: 'BULKHEAD_QUEUE_TIMEOUT_MS',
    kind: millis(0, 600_000),
    default: undefined,
    kernelDefault: '5000',
    meaning: 'how long a call may wait for a bulkhead slot',
    to: 'backends.defaults.bulkhead.queueTimeoutMs',
  }),
  bulkheadCompute: bulkhead('compute', 'compute', 'COMPUTE'),
  bulkheadNetwork: bulkhead('network', 'network', 'NETWORK'),
  bulkheadStorage: bulkhead('storage', 'storage', 'STORAGE'),
  bulkheadDns: bulkhead('dns', 'dns', 'DNS'),
  bulkheadLoadBalancer: bulkhead('loadBalancer', 'load-balancer', 'LOAD_BALANCER'),
  bulkheadWebhook: bulkhead('webhook', 'webhook', 'WEBHOOK'),

  rateLimitMax: row({
    flag: 'rate-limit-max',
    env: 'RATE_LIMIT_MAX',
    kind: integer(0, 100_000_000),
    default: 6_000,
    meaning: 'requests per API key per window (shared through Redis when set); 0 turns the limit off',
    to: 'rateLimit.max',
  }),
  rateLimitWindowMs: row({
    flag: 'rate-limit-window-ms',
    env: 'RATE_LIMIT_WINDOW_MS',
    kind: millis(1_000, 86_400_000),
    default: 60_000,
    meaning: 'the window of the per-key rate limit; over the limit a request gets a 429 with Retry-After',
    to: 'rateLimit.windowMs',
  }),

  nodeHeartbeatMs: row({
    flag: 'node-heartbeat-ms',
    env: 'NODE_HEARTBEAT_MS',
    kind: millis(100, 600_000),
    default: 5_000,
    meaning: "between two refreshes of this node's last_seen_at in stratus_nodes",
    to: 'nodes.heartbeatMs',
  }),
  nodeStaleAfterMs: row({
    flag: 'node-stale-after-ms',
    env: 'NODE_STALE_AFTER_MS',
    kind: millis(1_000, 86_400_000),
    default: 30_000,
    meaning: 'the reaper marks a node silent for this long as stopped',
    to: 'nodes.staleAfterMs',
  }),
  nodeReaperIntervalMs: row({
    flag: 'node-reaper-interval-ms',
    env: 'NODE_REAPER_INTERVAL_MS',
    kind: millis(100, 86_400_000),
    default: 10_000,
    meaning: 'between two passes of the node reaper',
    to: 'nodes.reaperIntervalMs',
  }),
  nodeRetentionMs: row({
    flag: 'node-retention-ms',
    env: 'NODE_RETENTION_MS',
    kind: millis(60_000, 31_536_000_000),
    default: 7 * 24 * 3_600_000,
    meaning: 'the reaper deletes nodes stopped for longer than this',
    to: 'nodes.retentionMs',
  }),
} satisfies Record<string, SettingRow<unknown>>;

type Settings = typeof SETTINGS;
type ValueOf<R> = R extends { readonly kind: ValueKind<infer T> } ? T : never;

/** The validated configuration of one `stratus start` process: one field per row of {@link SETTINGS}. */
export type Config = {
  -readonly [K in keyof Settings]: Settings[K]['default'] extends undefined
    ? ValueOf<Settings[K]> | undefined
    : ValueOf<Settings[K]>;
};
