import type { Database } from '../../db/database.js';
import { loadText } from '../../db/sql-loader.js';
import {
  DEFAULT_VISIBILITY_TIMEOUT_MS,
  type DeadLetter,
  type Delivery,
  type Queue,
  type QueueLogger,
  type QueueOptions,
  type QueueStats,
} from '../port.js';
import { acquireNotifyHub } from './notify-hub.js';

export interface PostgresQueueOptions extends QueueOptions {
  /** Tables from migration 0002_queue; any driver (`pg` or PGlite). */
  db: Database;
  logger?: QueueLogger;
  /**
   * How often a blocked receive looks again when no NOTIFY came: the bound on a missed wake-up
   * (LISTEN session lost, driver without LISTEN). Default 250 ms.
   */
  pollIntervalMs?: number;
}

const sql = {
  add: loadText(new URL('./sql/add.sql', import.meta.url)),
  receive: loadText(new URL('./sql/receive.sql', import.meta.url)),
  reclaim: loadText(new URL('./sql/reclaim.sql', import.meta.url)),
  ack: loadText(new URL('./sql/ack.sql', import.meta.url)),
  touch: loadText(new URL('./sql/touch.sql', import.meta.url)),
  release: loadText(new URL('./sql/release.sql', import.meta.url)),
  deadLetter: loadText(new URL('./sql/dead-letter.sql', import.meta.url)),
  stats: loadText(new URL('./sql/stats.sql', import.meta.url)),
  deadLetters: loadText(new URL('./sql/dead-letters.sql', import.meta.url)),
};

/** Row ids only: anything else cannot name a message of ours and the cast would fail. */
const ROW_ID = /^\d{1,18}$/;

type MessageRow = { id: number; body: string; deliveries: number };

function deliveries(rows: MessageRow[]): Delivery[] {
  return rows
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ id: String(r.id), body: r.body, deliveries: Number(r.deliveries) }));
}

/**
 * The durable queue on a PostgreSQL table: receivers take rows with `FOR UPDATE SKIP LOCKED`,
 * a row is hidden while `locked_until` lies ahead (database time), and a blocked receiver is
 * woken by NOTIFY, polling as a fallback. Every operation is one statement. Runs on PGlite too.
 */
export function createPostgresQueue(options: PostgresQueueOptions): Queue {
  const { db, name, consumer } = options;
  const visibilityMs = options.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
  const pollMs = options.pollIntervalMs ?? 250;
  const hub = acquireNotifyHub(db, options.logger);
  const closing = new AbortController();

  const take = async (max: number): Promise<Delivery[]> => {
    const res = await db.query<MessageRow>(sql.receive, [name, max, consumer, visibilityMs]);
    return deliveries(res.rows);
  };

  return {
    async add(body) {
      const res = await db.query<{ id: number }>(sql.add, [name, [body]]);
      return String(res.rows[0]!.id);
    },

    async addBatch(bodies) {
      if (bodies.length === 0) return [];
      const res = await db.query<{ id: number }>(sql.add, [name, bodies]);
      return res.rows.map((r) => String(r.id));
    },

    async receive(max, blockMs, signal) {
      if (closing.signal.aborted || signal?.aborted) return [];
      if (blockMs <= 0) return take(max);
      await hub.listen();
      const deadline = Date.now() + blockMs;
      for (;;) {
        const wakeup = hub.arm(name);
        try {
          const got = await take(max);
          if (got.length > 0) return got;
          const left = deadline - Date.now();
          if (left <= 0) return [];
          await wakeup.wait(Math.min(left, pollMs), [signal, closing.signal]);
          if (closing.signal.aborted || signal?.aborted) return [];
        } finally {
          wakeup.cancel();
        }
      }
    },

    async ack(ids) {
      const valid = ids.filter((id) => ROW_ID.test(id));
      if (valid.length > 0) await db.query(sql.ack, [name, valid]);
    },

    async touch(ids) {
      const valid = ids.filter((id) => ROW_ID.test(id));
      if (valid.length > 0) await db.query(sql.touch, [name, valid, consumer, visibilityMs]);
    },

    async release(id, delayMs, options) {
      if (!ROW_ID.test(id)) return;
      await db.query(sql.release, [name, id, consumer, Math.max(0, delayMs), options?.unworked ?? false]);
    },

    async deadLetter(id, reason) {
      if (!ROW_ID.test(id)) return;
      await db.query(sql.deadLetter, [name, id, reason]);
    },

    async reclaim(max) {
      const res = await db.query<MessageRow>(sql.reclaim, [name, max, consumer, visibilityMs]);
      return deliveries(res.rows);
    },

    async stats(): Promise<QueueStats> {
      const res = await db.query<{
        length: number;
        pending: number;
        lag: number;
        delayed: number;
        oldest_pending_ms: number;
        dead_letters: number;
      }>(sql.stats, [name]);
      const r = res.rows[0]!;
      return {
        length: r.length,
        pending: r.pending,
        lag: r.lag,
        oldestPendingMs: Number(r.oldest_pending_ms),
        delayed: r.delayed,
        deadLetters: r.dead_letters,
      };
    },

    async deadLetters(limit): Promise<DeadLetter[]> {
      const res = await db.query<{
        id: number;
        message_id: number;
        body: string;
        reason: string;
        deliveries: number;
      }>(sql.deadLetters, [name, limit]);
      return res.rows.map((r) => ({
        id: String(r.id),
        messageId: String(r.message_id),
        body: r.body,
        reason: r.reason,
        deliveries: r.deliveries,
      }));
    },

    async promoteDelayed() {
      // A delayed row becomes ready by itself when available_at passes: nothing to move.
      return 0;
    },

    async removeDeadConsumers() {
      // Consumers are not registered anywhere: a row names its holder only while held.
      return [];
    },

    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      await hub.release();
    },
  };
}
