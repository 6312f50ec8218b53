/**
 * Errors of the queue adapters. Each has a stable `code`; check it with the type guard, which
 * also recognises an error thrown by another copy of this module.
 */

/** A blocking read got no answer long after its block time: the connection is presumed dead. */
export class QueueStalledError extends Error {
  readonly code = 'QUEUE_STALLED' as const;
  constructor(
    readonly queue: string,
    readonly waitedMs: number,
  ) {
    super(`queue ${queue}: a blocking read had no answer after ${waitedMs} ms; its connection was dropped`);
    this.name = 'QueueStalledError';
  }
}

export function isQueueStalledError(err: unknown): err is QueueStalledError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'QUEUE_STALLED';
}

/** A reply of the store did not have the shape the adapter expects (a bug or a foreign key). */
export class QueueProtocolError extends Error {
  readonly code = 'QUEUE_PROTOCOL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'QueueProtocolError';
  }
}

export function isQueueProtocolError(err: unknown): err is QueueProtocolError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'QUEUE_PROTOCOL';
}
