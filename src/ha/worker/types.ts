import type { Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import type { JobEnvelope } from '../job/envelope.js';
import type { JobLogger } from '../job/logger.js';
import type { ExecutionLedger } from '../ledger/port.js';
import type { QueueAdmin, QueueConsumer } from '../queue/port.js';
import type { BackoffOptions } from './backoff.js';

/** What a handler receives for one attempt of one job. */
export interface JobContext {
  readonly job: JobEnvelope;
  /** The ledger's attempt counter (1 = first lease of this job). */
  readonly attempt: number;
  /** The fencing token of this attempt's lease: hand it to backends that fence. */
  readonly token: number;
  /** The idempotency token for backends (the job key): a repeated call returns the first result. */
  readonly clientToken: string;
  /** Aborts on timeout, on a lost lease and on shutdown. */
  readonly signal: AbortSignal;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

export interface HandlerOptions {
  /** Attempts of this kind running at once on this worker. Default: the worker's concurrency. */
  concurrency?: number;
  /** Ledger lease, extended by every heartbeat. Default 4000 ms. */
  leaseMs?: number;
  /** The handler is aborted past this. Default 60 000 ms. */
  timeoutMs?: number;
  /** Attempts before the job is dead-lettered (an envelope's own value wins). Default 5. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
}

export interface HandlerRegistration extends HandlerOptions {
  handler: JobHandler;
}

/** Passed to `onDeadLetter` when a message goes to the dead-letter store. */
export interface DeadLetterInfo {
  readonly messageId: string;
  /** Undefined when the body could not be parsed. */
  readonly job: JobEnvelope | undefined;
  readonly reason: string;
  /** The last attempt's number, when one ran. */
  readonly attempt: number | undefined;
}

export interface WorkerOptions {
  queue: QueueConsumer & QueueAdmin;
  /** The execution ledger; built on `db` when omitted. */
  ledger?: ExecutionLedger;
  db?: Database;
  handlers: Readonly<Record<string, JobHandler | HandlerRegistration>>;
  /** Owner of the leases this worker takes (appears in the ledger and the logs). */
  nodeId: string;
  logger?: JobLogger;
  registry?: Registry;
  /**
   * Handlers running at once. The worker also leases up to as many more jobs ahead (prefetch),
   * so it holds at most twice this many messages before completion. Default 50.
   */
  concurrency?: number;
  /** Most messages read per receive. Default: twice the concurrency. */
  batchSize?: number;
  /** Between two heartbeats (ledger leases and message idle times). Default 500 ms. */
  heartbeatMs?: number;
  /** Between two scans for messages idle past the visibility timeout. Default 500 ms. */
  reclaimMs?: number;
  /** Between two promotions of due delayed retries. Default 250 ms. */
  promoteMs?: number;
  /** How long one receive blocks when the queue is empty. Default 500 ms. */
  receiveBlockMs?: number;
  /** On shutdown, how long in-flight jobs may take to finish before they are released. Default 10 000 ms. */
  drainMs?: number;
  /** How long an aborted handler may take to settle before its slot is given up. Default 1000 ms. */
  abortGraceMs?: number;
  /**
   * A message handed out more often than this without an ack (its workers died before any
   * verdict) fails its job for good: recorded in the ledger, reported, then dead-lettered.
   * Default 10.
   */
  maxDeliveries?: number;
  /** Told about every dead letter (the control plane marks the resource failed). Its errors are logged. */
  onDeadLetter?: (info: DeadLetterInfo) => unknown;
  /** For tests: the randomness of the backoff. */
  random?: () => number;
}
