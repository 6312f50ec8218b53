// The default policy of every backend operation. `timeoutMs` is the deadline of the whole
// call (bulkhead queue, attempts and backoff included); `attemptTimeoutMs` bounds one
// attempt. Reads are idempotent and retried: an attempt gets half the deadline, so one hung
// attempt still leaves room for another before the deadline. Every mutation carries a
// client token and could be repeated safely, but it is not retried here: a job retries the
// whole step under its lease with backoff, and retrying inside the step as well would
// multiply attempts while the lease clock runs.

import type { ComputePort } from '../core/ports/compute.js';
import type { DatabasePort } from '../core/ports/database.js';
import type { DnsPort } from '../core/ports/dns.js';
import type { LoadBalancerPort } from '../core/ports/load-balancer.js';
import type { NetworkPort } from '../core/ports/network.js';
import type { RunnerPort } from '../core/ports/runner.js';
import type { StoragePort } from '../core/ports/storage.js';
import type { WebhookPort } from '../core/ports/webhook.js';
import type { OperationTable } from './resilient.js';

const READ = { timeoutMs: 10_000, attemptTimeoutMs: 5_000, idempotent: true } as const;
const PING = { timeoutMs: 5_000, idempotent: false, optionsAt: 0 } as const;
const LIST = { ...READ, optionsAt: 0 } as const;
const GET = { ...READ, optionsAt: 1 } as const;

/** Compute: creates boot a machine (2 min), power changes and deletes take up to a minute. */
export const computeOperations: OperationTable<ComputePort> = {
  ping: PING,
  createInstance: { timeoutMs: 120_000, idempotent: false, optionsAt: 1 },
  getInstance: GET,
  listInstances: LIST,
  deleteInstance: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  startInstance: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  stopInstance: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  resizeInstance: { timeoutMs: 60_000, idempotent: false, optionsAt: 2 },
  streamLogs: { ...READ, stream: true, optionsAt: 1 },
  streamStats: { ...READ, stream: true, optionsAt: 1 },
  pruneLogs: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
};

/** Network: 30 s for every mutation, as the predecessor had. */
export const networkOperations: OperationTable<NetworkPort> = {
  ping: PING,
  createNetwork: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  getNetwork: GET,
  listNetworks: LIST,
  deleteNetwork: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  allocateIp: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  releaseIp: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  attach: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  detach: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
};

/** Storage: provisioning a volume takes up to a minute, attachments 30 s. */
export const storageOperations: OperationTable<StoragePort> = {
  ping: PING,
  createVolume: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  getVolume: GET,
  listVolumes: LIST,
  deleteVolume: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  attachVolume: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  detachVolume: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  resizeVolume: { timeoutMs: 60_000, idempotent: false, optionsAt: 2 },
  createSnapshot: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  deleteSnapshot: { timeoutMs: 60_000, idempotent: false, optionsAt: 1 },
  listSnapshots: LIST,
};

/** DNS: 10 s for everything, as the predecessor had. */
export const dnsOperations: OperationTable<DnsPort> = {
  ping: PING,
  createZone: { timeoutMs: 10_000, idempotent: false, optionsAt: 1 },
  getZone: GET,
  listZones: LIST,
  deleteZone: { timeoutMs: 10_000, idempotent: false, optionsAt: 1 },
  upsertRecord: { timeoutMs: 10_000, idempotent: false, optionsAt: 2 },
  deleteRecord: { timeoutMs: 10_000, idempotent: false, optionsAt: 1 },
  listRecords: { ...READ, optionsAt: 1 },
};

/** Load balancers: 30 s normally, 2 min for a target update (a deploy). */
export const loadBalancerOperations: OperationTable<LoadBalancerPort> = {
  ping: PING,
  createLoadBalancer: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  getLoadBalancer: GET,
  listLoadBalancers: LIST,
  deleteLoadBalancer: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  updateTargets: { timeoutMs: 120_000, idempotent: false, optionsAt: 2 },
  getTargetHealth: GET,
};

/**
 * Managed databases: creation and restore take minutes; the failover calls are short (a
 * controller holding its term must not sit on one), snapshots and rotations in between.
 */
export const databaseOperations: OperationTable<DatabasePort> = {
  ping: PING,
  createDatabase: { timeoutMs: 300_000, idempotent: false, optionsAt: 1 },
  getDatabase: GET,
  listDatabases: LIST,
  deleteDatabase: { timeoutMs: 120_000, idempotent: false, optionsAt: 1 },
  fence: { timeoutMs: 30_000, idempotent: false, optionsAt: 2 },
  promote: { timeoutMs: 30_000, idempotent: false, optionsAt: 2 },
  switchover: { timeoutMs: 60_000, idempotent: false, optionsAt: 2 },
  snapshotDatabase: { timeoutMs: 120_000, idempotent: false, optionsAt: 1 },
  restoreDatabase: { timeoutMs: 300_000, idempotent: false, optionsAt: 2 },
  rotateCredentials: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
};

/**
 * Webhooks: 10 s per delivery. A repeat is safe (the client token), but a cron run retries
 * its slot on its own next pass, so the wrapper does not retry it.
 */
export const webhookOperations: OperationTable<WebhookPort> = {
  ping: PING,
  deliver: { timeoutMs: 10_000, idempotent: false, optionsAt: 1 },
};

/** Runner: starting a run queues it (30 s); logs are a stream that lives until closed. */
export const runnerOperations: OperationTable<RunnerPort> = {
  ping: PING,
  startRun: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  getRun: GET,
  listRuns: LIST,
  cancelRun: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  deleteRun: { timeoutMs: 30_000, idempotent: false, optionsAt: 1 },
  streamRunLogs: { ...READ, stream: true, optionsAt: 1 },
};
