import type { Database } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { coerceError, type JobLogger, silentLogger } from '../job/logger.js';
import { delay, Waker } from '../job/wake.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { QueueProducer } from '../queue/port.js';
import { dispatchMarked } from './dispatch.js';
import { OUTBOX_CHANNEL } from './outbox.js';

const claimSql = loadText(new URL('./sql/claim.sql', import.meta.url));
const claimSettings = loadText(new URL('./sql/claim-settings.sql', import.meta.url));

export interface OutboxRelayOptions {
  db: Database;
  queue: QueueProducer;
  /** Rows moved per transaction. Default 500. */
  batchSize?: number;
  /** Safety net when a NOTIFY is missed (listener reconnecting). Default 1000 ms. */
  pollMs?: number;
  logger?: JobLogger;
  /** Called with the number of rows moved by each batch. */
  onDispatched?: (count: number) => void;
}

export interface OutboxRelay extends Runnable {
  /** Moves one batch now; returns how many rows it moved. */
  dispatchOnce(): Promise<number>;
}

/**
 * Moves outbox rows into the queue in batches. Every worker runs one: rows are claimed and
 * marked dispatched in one statement (`FOR UPDATE SKIP LOCKED`), then added to the queue; a
 * refused add marks them undispatched again. A crash in between leaves rows marked dispatched
 * that the queue never got: the sweeper sends them after its grace, so none is lost.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1_000;
  const logger = options.logger ?? silentLogger;

  const dispatchOnce = () => dispatchMarked(options.db, options.queue, claimSql, [batchSize], claimSettings);

  return {
    name: 'outbox-relay',
    dispatchOnce,
    async start(signal) {
      const waker = new Waker();
      let unlisten: (() => Promise<void>) | undefined;
      let failures = 0;
      while (!signal.aborted) {
        try {
          unlisten ??= await options.db.listen(OUTBOX_CHANNEL, () => waker.wake());
          const moved = await dispatchOnce();
          failures = 0;
          if (moved > 0) options.onDispatched?.(moved);
          // A full batch means more may be waiting: go again without waiting for a NOTIFY.
          if (moved < batchSize) await waker.wait(pollMs, signal);
        } catch (err) {
          failures++;
          // Full jitter, 100 ms doubling to 5 s: a database or queue outage is not hammered.
          const backoff = Math.random() * Math.min(5_000, 100 * 2 ** Math.min(failures, 6));
          logger.warn({ err: coerceError(err), failures }, 'outbox relay: batch failed, backing off');
          await delay(backoff, signal);
        }
      }
      await unlisten?.().catch(() => {});
    },
  };
}
