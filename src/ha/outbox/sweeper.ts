import type { Database } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { coerceError, type JobLogger, silentLogger } from '../job/logger.js';
import { delay } from '../job/wake.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { QueueProducer } from '../queue/port.js';
import { CLAIM_MS, dispatchClaimed } from './dispatch.js';

const sql = {
  markDone: loadText(new URL('./sql/mark-done.sql', import.meta.url)),
  claimStranded: loadText(new URL('./sql/claim-stranded.sql', import.meta.url)),
  claimOrphaned: loadText(new URL('./sql/claim-orphaned.sql', import.meta.url)),
};

/** A job neither done nor leased this long after its dispatch is sent again. */
export const DEFAULT_SWEEPER_GRACE_MS = 30_000;
/** A job its relay marked dispatched and never added, the relay gone, is sent this soon. */
export const DEFAULT_ORPHAN_GRACE_MS = 1_000;

export interface OutboxSweeperOptions {
  db: Database;
  queue: QueueProducer;
  /**
   * How long a dispatched job may stay without progress (no live lease, no scheduled retry)
   * before it is dispatched again. Several visibility timeouts, so that the queue's own
   * reclaim (one visibility timeout) handles a crashed worker first. Default 30 000 ms.
   */
  graceMs?: number;
  /** Pause between sweeps. Default graceMs / 3. */
  intervalMs?: number;
  /**
   * How long after its dispatch a job whose relay left no session behind (killed between its
   * claim and its queue add) and which never started is sent again; these are looked for every
   * `orphanGraceMs` too, between full sweeps. Default 1 000 ms.
   */
  orphanGraceMs?: number;
  /** Rows re-dispatched per transaction. Default 500. */
  batchSize?: number;
  logger?: JobLogger;
}

export interface SweepReport {
  /** Rows marked done because the ledger shows their job finished. */
  markedDone: number;
  /** Jobs put on the queue again. */
  redispatched: number;
  /** Of them, jobs whose relay had gone before it put them on the queue. */
  orphans: number;
}

export interface OutboxSweeper extends Runnable {
  /** One full sweep now. */
  sweepOnce(): Promise<SweepReport>;
}

/**
 * Re-dispatches jobs the queue lost: a job in the outbox that is neither finished nor leased
 * nor scheduled, and was last dispatched more than a grace ago. This is what makes a Redis
 * restart that lost every key harmless: Postgres still knows every unfinished job. A job the
 * queue still holds gets a duplicate message at worst, which the ledger dedupes.
 */
export function createOutboxSweeper(options: OutboxSweeperOptions): OutboxSweeper {
  const graceMs = options.graceMs ?? DEFAULT_SWEEPER_GRACE_MS;
  const intervalMs = options.intervalMs ?? Math.max(100, Math.round(graceMs / 3));
  const batchSize = options.batchSize ?? 500;
  const orphanGraceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  const logger = options.logger ?? silentLogger;

  /** Claims with `claimSql` (rows older than `minAgeMs`) and sends, batch after batch; how many. */
  async function send(claimSql: string, minAgeMs: number): Promise<number> {
    let sent = 0;
    for (;;) {
      const moved = await dispatchClaimed(options.db, options.queue, claimSql, [
        minAgeMs,
        batchSize,
        CLAIM_MS,
      ]);
      sent += moved;
      if (moved < batchSize) return sent;
    }
  }

  /** Sends the rows of relays gone between their claim and their add; returns how many. */
  async function sweepOrphans(): Promise<number> {
    const orphans = await send(sql.claimOrphaned, orphanGraceMs);
    if (orphans > 0)
      logger.warn({ orphans }, 'outbox sweeper: re-dispatched jobs of a relay gone before its add');
    return orphans;
  }

  async function sweepOnce(): Promise<SweepReport> {
    const orphans = await sweepOrphans();
    let markedDone = 0;
    for (;;) {
      const res = await options.db.query(sql.markDone, [5_000]);
      markedDone += res.rowCount;
      if (res.rowCount < 5_000) break;
    }
    const redispatched = await send(sql.claimStranded, graceMs);
    if (redispatched > 0) logger.warn({ redispatched }, 'outbox sweeper: re-dispatched stranded jobs');
    return { markedDone, redispatched: redispatched + orphans, orphans };
  }

  return {
    name: 'outbox-sweeper',
    needsLeadership: true,
    sweepOnce,
    async start(signal) {
      // A full sweep every intervalMs; between them, a look for orphans every orphanGraceMs.
      const tickMs = Math.min(intervalMs, orphanGraceMs);
      let fullDueAt = 0;
      while (!signal.aborted) {
        const now = performance.now();
        try {
          if (now >= fullDueAt) {
            fullDueAt = now + intervalMs;
            await sweepOnce();
          } else await sweepOrphans();
        } catch (err) {
          logger.warn({ err: coerceError(err) }, 'outbox sweeper: sweep failed');
        }
        await delay(tickMs, signal);
      }
    },
  };
}
