/**
 * The durable queue port: at-least-once delivery of opaque message bodies to a group of
 * consumers. Two adapters implement it (Redis Streams; a PostgreSQL table) and pass one
 * shared contract suite. The queue knows nothing of jobs or of the ledger: deduplication
 * is the ledger's work, the queue only promises that an un-acked message comes back.
 */

/** A message handed to one consumer. */
export interface Delivery {
  /** The queue's id of the message (stream entry id, or row id). */
  readonly id: string;
  /** The body as it was added. */
  readonly body: string;
  /** How many times the message has been handed out, this delivery included (1 = first). */
  readonly deliveries: number;
}

export interface QueueProducer {
  /** Adds one message; resolves with its id once it is durable in the queue. */
  add(body: string): Promise<string>;
  /** Adds many messages in one round trip (pipelined or one statement). */
  addBatch(bodies: readonly string[]): Promise<string[]>;
}

export interface QueueConsumer {
  /**
   * Receives up to `max` new messages for this consumer, waiting at most `blockMs` for the
   * first one (`blockMs <= 0`: do not wait). Resolves with [] on timeout or when `signal`
   * aborts; a message the queue handed out while the read was being aborted is not lost, it
   * comes back through `reclaim` after the visibility timeout.
   */
  receive(max: number, blockMs: number, signal?: AbortSignal): Promise<Delivery[]>;
  /** Removes messages for good, in one round trip. Unknown ids are ignored. */
  ack(ids: readonly string[]): Promise<void>;
  /**
   * Resets the idle time of live messages this consumer holds, so they are not reclaimed.
   * Ids held by another consumer (taken over by `reclaim`) or gone are left alone.
   */
  touch(ids: readonly string[]): Promise<void>;
  /**
   * Gives a message this consumer holds back for redelivery after `delayMs` (0 = at once),
   * never leaving a second live copy behind. The delivery count is kept, unless
   * `options.unworked` says the consumer never worked on the message (it had no room for it,
   * or shuts down): then this delivery is taken back. A no-op when the message is gone or
   * another consumer has taken it over.
   */
  release(id: string, delayMs: number, options?: ReleaseOptions): Promise<void>;
  /**
   * Moves a message to the dead-letter store with a reason, removing it from the queue, in one
   * atomic step. A no-op when the message is gone.
   */
  deadLetter(id: string, reason: string): Promise<void>;
  /**
   * Takes over up to `max` messages whose holder has not touched them within the visibility
   * timeout, counting one more delivery. The queue enforces no delivery limit: a message
   * delivered too often is the consumer's to judge (`deliveries`), since only the consumer
   * can record the job's fate before the message goes to the dead-letter store.
   */
  reclaim(max: number): Promise<Delivery[]>;
}

export interface ReleaseOptions {
  /**
   * This delivery is not counted towards the delivery limit: the consumer never worked on the
   * message (no room, a duplicate, a shutdown, the ledger unreachable), or its outcome is
   * recorded elsewhere (a retry counted in the ledger). The limit is for deliveries that never
   * reached any verdict: a worker that died on them.
   */
  unworked?: boolean;
}

export interface QueueStats {
  /** Messages in the queue, pending or not (delayed and dead-lettered ones excluded). */
  length: number;
  /** Messages handed out and not acked. */
  pending: number;
  /** Messages not yet handed out to any consumer. */
  lag: number;
  /** Age of the oldest pending message in ms, 0 when none. */
  oldestPendingMs: number;
  /** Messages waiting for a delayed retry. */
  delayed: number;
  /** Size of the dead-letter store. */
  deadLetters: number;
}

export interface DeadLetter {
  /** The id of the dead letter in the dead-letter store. */
  id: string;
  /** The id the message had in the queue. */
  messageId?: string;
  body: string;
  reason: string;
  /** How many times the message was handed out before it was dead-lettered. */
  deliveries: number;
}

export interface QueueAdmin {
  stats(): Promise<QueueStats>;
  /** Reads dead letters, oldest first. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /**
   * Moves delayed messages whose time has come into the queue; returns how many moved. Call it
   * about once a second (the Postgres adapter needs no promotion and returns 0).
   */
  promoteDelayed(): Promise<number>;
  /** Removes consumers that hold no messages and have been idle for `idleMs`. Returns their names. */
  removeDeadConsumers(idleMs: number): Promise<string[]>;
}

/** Settings common to both adapters. */
/**
 * Equal to the worker's default lease (DEFAULT_LEASE_MS): reclaim neither races a live lease nor
 * waits on a dead one.
 */
export const DEFAULT_VISIBILITY_TIMEOUT_MS = 4_000;

export interface QueueOptions {
  /** Name of the queue (stream key suffix, or queue column value). */
  name: string;
  /** The name of this consumer within the group: the node id. */
  consumer: string;
  /** A message not touched for this long is reclaimable. Default 4000 ms. */
  visibilityTimeoutMs?: number;
}

/**
 * A queue handle for one consumer. `close` releases what the adapter opened itself (blocking
 * connections, listeners) and ends pending receives with []; the client or database handed
 * to the adapter stays open.
 */
export type Queue = QueueProducer & QueueConsumer & QueueAdmin & { close(): Promise<void> };

/** The pino-compatible logger the adapters accept. */
export interface QueueLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
