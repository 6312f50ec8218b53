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
   * first one. Resolves with [] on timeout or when `signal` aborts.
   */
  receive(max: number, blockMs: number, signal?: AbortSignal): Promise<Delivery[]>;
  /** Removes messages for good, in one round trip. Unknown ids are ignored. */
  ack(ids: readonly string[]): Promise<void>;
  /** Resets the idle time of live messages this consumer holds, so they are not reclaimed. */
  touch(ids: readonly string[]): Promise<void>;
  /**
   * Gives a message back for redelivery after `delayMs` (0 = at once), never leaving a second
   * live copy behind.
   */
  release(id: string, delayMs: number): Promise<void>;
  /** Moves a message to the dead-letter store with a reason, removing it from the queue. */
  deadLetter(id: string, reason: string): Promise<void>;
  /**
   * Takes over up to `max` messages whose holder has not touched them within the visibility
   * timeout. A message past the delivery limit goes to the dead-letter store instead.
   */
  reclaim(max: number): Promise<Delivery[]>;
}

export interface QueueStats {
  /** Messages in the queue, pending or not. */
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
  id: string;
  body: string;
  reason: string;
  deliveries: number;
}

export interface QueueAdmin {
  stats(): Promise<QueueStats>;
  /** Reads dead letters, oldest first. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Moves delayed messages whose time has come into the queue; returns how many moved. */
  promoteDelayed(): Promise<number>;
  /** Removes consumers that hold no messages and have been idle for `idleMs`. Returns their names. */
  removeDeadConsumers(idleMs: number): Promise<string[]>;
}

/** Settings common to both adapters. */
export interface QueueOptions {
  /** Name of the queue (stream key suffix, or queue column value). */
  name: string;
  /** The name of this consumer within the group: the node id. */
  consumer: string;
  /** A message not touched for this long is reclaimable. Default 5000 ms. */
  visibilityTimeoutMs?: number;
  /** After this many deliveries, a reclaimed message is dead-lettered. Default 10. */
  maxDeliveries?: number;
}

export type Queue = QueueProducer & QueueConsumer & QueueAdmin & { close(): Promise<void> };
