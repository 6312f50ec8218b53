import type { Redis } from 'ioredis';
import type { QueueLogger } from '../port.js';

/**
 * Connections for blocking reads. A blocking XREADGROUP holds its connection for up to its block
 * time, so it never runs on the shared client (it would stall every other command behind it).
 * Each concurrent receive takes its own connection; up to `maxIdle` are kept for reuse. Ending a
 * read early (abort, close, stall) disconnects its connection, the only way to interrupt a
 * blocked command, and that connection is never reused, so none is leaked or left half-read.
 */
export class BlockingReaders {
  readonly #idle: Redis[] = [];
  readonly #busy = new Set<Redis>();
  #closed = false;

  constructor(
    private readonly source: Redis,
    private readonly connectionName: string,
    private readonly logger?: QueueLogger,
    private readonly maxIdle = 2,
  ) {}

  /** A connection for one blocking read; give it back with `release` or `destroy`. */
  take(): Redis {
    if (this.#closed) throw new Error('the queue is closed');
    let conn = this.#idle.pop();
    if (conn === undefined) {
      conn = this.source.duplicate({ connectionName: this.connectionName });
      conn.on('error', (err: Error) =>
        this.logger?.warn({ err, connection: this.connectionName }, 'blocking queue connection error'),
      );
    }
    this.#busy.add(conn);
    return conn;
  }

  /** Returns a connection whose read has finished normally. */
  release(conn: Redis): void {
    this.#busy.delete(conn);
    if (this.#closed || this.#idle.length >= this.maxIdle) conn.disconnect();
    else this.#idle.push(conn);
  }

  /** Drops a connection whose read must end now; its pending command rejects at once. */
  destroy(conn: Redis): void {
    this.#busy.delete(conn);
    conn.disconnect();
  }

  /** Connections open now (busy and idle): what a leak test counts. */
  get open(): number {
    return this.#busy.size + this.#idle.length;
  }

  close(): void {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) conn.disconnect();
  }
}
