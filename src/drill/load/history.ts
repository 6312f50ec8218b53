// history.ndjson, written as the load goes: one HistoryEvent per line, in the order they
// happened. A drill that crashes still leaves every line written so far.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { HistoryEvent } from '../evidence.js';

export class HistoryWriter {
  readonly #out: WriteStream;
  #events = 0;

  constructor(file: string) {
    this.#out = createWriteStream(file, { flags: 'w' });
  }

  get events(): number {
    return this.#events;
  }

  write(event: HistoryEvent): void {
    this.#events++;
    this.#out.write(`${JSON.stringify(event)}\n`);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#out.once('error', reject);
      this.#out.end(() => resolve());
    });
  }
}
