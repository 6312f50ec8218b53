// Per-instance log buffers with followers: a stream reads from its offset and, when
// following, waits for the next line; closing a buffer (the instance is gone) ends them.

import type { LogLine, LogOptions } from '../../core/ports/compute.js';
import type { SimCloud } from '../cloud/cloud.js';

/** Lines kept per instance; older ones are dropped (a guest's ring buffer). */
const KEEP = 1_000;

interface Buffer {
  lines: LogLine[];
  /** Lines dropped from the front, so offsets stay valid. */
  dropped: number;
  waiters: Set<() => void>;
}

/** The log buffers of every instance. */
export class LogBuffers {
  private readonly buffers = new Map<string, Buffer>();

  /** @param now the cloud's clock */
  constructor(private readonly now: () => number) {}

  /** Opens the buffer of a new instance. */
  open(id: string): void {
    if (!this.buffers.has(id)) this.buffers.set(id, { lines: [], dropped: 0, waiters: new Set() });
  }

  /** Appends a line and wakes the followers. */
  append(id: string, line: string): void {
    const buffer = this.buffers.get(id);
    if (buffer === undefined) return;
    buffer.lines.push({ at: this.now(), line });
    if (buffer.lines.length > KEEP) {
      buffer.lines.shift();
      buffer.dropped++;
    }
    this.wake(buffer);
  }

  /**
   * Drops the lines older than `before` from every buffer (offsets stay valid: they count as
   * dropped); returns how many went.
   */
  prune(before: number): number {
    let removed = 0;
    for (const buffer of this.buffers.values()) {
      let n = 0;
      while (n < buffer.lines.length && buffer.lines[n]!.at < before) n++;
      if (n === 0) continue;
      buffer.lines.splice(0, n);
      buffer.dropped += n;
      removed += n;
    }
    return removed;
  }

  /** Drops a buffer; its followers end. */
  close(id: string): void {
    const buffer = this.buffers.get(id);
    if (buffer === undefined) return;
    this.buffers.delete(id);
    this.wake(buffer);
  }

  /** The lines of `id` from the start (or the last `tail`), following if asked. */
  async *follow(id: string, options: LogOptions | undefined, cloud: SimCloud): AsyncGenerator<LogLine> {
    const signal = options?.signal;
    const first = this.buffers.get(id);
    if (first === undefined) return;
    let next =
      first.dropped + (options?.tail === undefined ? 0 : Math.max(0, first.lines.length - options.tail));
    for (;;) {
      if (signal?.aborted) cloud.observeAbort('compute', 'streamLogs', signal);
      const buffer = this.buffers.get(id);
      if (buffer === undefined) return;
      next = Math.max(next, buffer.dropped);
      if (next < buffer.dropped + buffer.lines.length) {
        yield buffer.lines[next++ - buffer.dropped]!;
        continue;
      }
      if (!options?.follow) return;
      await this.nextLine(buffer, signal);
    }
  }

  private wake(buffer: Buffer): void {
    const waiters = [...buffer.waiters];
    buffer.waiters.clear();
    for (const wake of waiters) wake();
  }

  private nextLine(buffer: Buffer, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        buffer.waiters.delete(wake);
        resolve();
      };
      buffer.waiters.add(wake);
      // An abort wakes the loop, which then sees the aborted signal and ends the stream.
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}
