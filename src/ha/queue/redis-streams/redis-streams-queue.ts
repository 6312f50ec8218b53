import type { Redis } from 'ioredis';
import { QueueProtocolError, QueueStalledError } from '../errors.js';
import {
  DEFAULT_VISIBILITY_TIMEOUT_MS,
  type DeadLetter,
  type Delivery,
  type Queue,
  type QueueLogger,
  type QueueOptions,
  type QueueStats,
} from '../port.js';
import { BlockingReaders } from './blocking-readers.js';
import { scripts } from './script.js';

export interface RedisStreamsQueueOptions extends QueueOptions {
  /** The shared client for every non-blocking command. Blocking reads use duplicates of it. */
  redis: Redis;
  /** Prepended to every key: `${prefix}${name}`, `…:dead`, `…:delayed`. Default ''. */
  prefix?: string;
  logger?: QueueLogger;
  /**
   * A blocking read still unanswered this long after its block time is presumed cut off (a
   * half-open TCP connection never errors): its connection is dropped and receive rejects with
   * `QueueStalledError`. Default 5000 ms.
   */
  stallMarginMs?: number;
}

/** Lua's unpack() is bounded by the C stack (about 8000 values); stay far below it. */
const MAX_IDS_PER_CALL = 1_000;
/** Delayed entries moved per promoteDelayed round trip, so one call never blocks Redis for long. */
const PROMOTE_BATCH = 1_000;

type Fields = string[];

function fieldOf(fields: Fields, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** XREADGROUP reply: null on timeout, else [[stream, [[id, fields], ...]]]. */
function parseRead(reply: unknown): Delivery[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw new QueueProtocolError('XREADGROUP returned a non-array');
  const out: Delivery[] = [];
  for (const stream of reply as [string, [string, Fields | null][]][]) {
    for (const [id, fields] of stream[1]) {
      if (fields === null) continue;
      out.push({ id, body: fieldOf(fields, 'b') ?? '', deliveries: Number(fieldOf(fields, 'd') ?? 0) + 1 });
    }
  }
  return out;
}

/** Stream entry ids only: anything else cannot name a message of ours and Redis would reject it. */
const ENTRY_ID = /^\d+-\d+$/;

/** Valid entry ids in chunks a script can take. */
function idChunks(ids: readonly string[]): string[][] {
  const valid = ids.filter((id) => ENTRY_ID.test(id));
  const out: string[][] = [];
  for (let i = 0; i < valid.length; i += MAX_IDS_PER_CALL) out.push(valid.slice(i, i + MAX_IDS_PER_CALL));
  return out;
}

/**
 * The durable queue on Redis Streams: one stream per queue with one consumer group, a pending
 * list per consumer, XAUTOCLAIM for messages whose holder went quiet, a dead-letter stream and a
 * sorted set of delayed retries. Every multi-step change is one Lua script, so no crash leaves a
 * message duplicated or dropped between steps. A group that vanished (Redis restarted empty,
 * FLUSHALL) is recreated on the first NOGROUP error, from the start of the stream.
 */
export function createRedisStreamsQueue(options: RedisStreamsQueueOptions): Queue {
  const { redis, name, consumer, logger } = options;
  const prefix = options.prefix ?? '';
  const stream = `${prefix}${name}`;
  const dead = `${stream}:dead`;
  const delayed = `${stream}:delayed`;
  const visibilityMs = options.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
  const stallMarginMs = options.stallMarginMs ?? 5_000;
  const readers = new BlockingReaders(redis, `${consumer}:queue:${name}`, logger);
  /** Ends every pending blocking read; called by close(). */
  const inFlight = new Set<() => void>();
  let reclaimCursor = '0-0';
  let closed = false;

  async function createGroup(): Promise<void> {
    try {
      // From id 0, not $: entries added after the data loss but before this call are delivered.
      await redis.call('XGROUP', 'CREATE', stream, name, '0', 'MKSTREAM');
      logger?.warn({ queue: name, stream }, 'consumer group was missing; created it');
    } catch (err) {
      if (!errorText(err).startsWith('BUSYGROUP')) throw err;
    }
  }

  /** Runs `fn`; when the group is missing, creates it and runs `fn` once more. */
  async function withGroup<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!errorText(err).startsWith('NOGROUP')) throw err;
      await createGroup();
      return fn();
    }
  }

  async function blockingRead(max: number, blockMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    const conn = readers.take();
    let ended: 'aborted' | 'stalled' | undefined;
    const end = (why: 'aborted' | 'stalled') => {
      if (ended !== undefined) return;
      ended = why;
      readers.destroy(conn);
    };
    const onAbort = () => end('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    inFlight.add(onAbort);
    const stall = setTimeout(() => end('stalled'), blockMs + stallMarginMs);
    try {
      const reply = await withGroup(() =>
        conn.call(
          'XREADGROUP',
          'GROUP',
          name,
          consumer,
          'COUNT',
          max,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          '>',
        ),
      );
      return parseRead(reply);
    } catch (err) {
      if (ended === 'aborted') return [];
      if (ended === 'stalled') throw new QueueStalledError(name, blockMs + stallMarginMs);
      throw err;
    } finally {
      clearTimeout(stall);
      signal?.removeEventListener('abort', onAbort);
      inFlight.delete(onAbort);
      if (ended === undefined) readers.release(conn);
    }
  }

  return {
    async add(body) {
      return (await redis.call('XADD', stream, '*', 'b', body)) as string;
    },

    async addBatch(bodies) {
      const ids: string[] = [];
      for (let i = 0; i < bodies.length; i += MAX_IDS_PER_CALL) {
        const part = bodies.slice(i, i + MAX_IDS_PER_CALL);
        ids.push(...((await scripts.addBatch.run(redis, [stream], part)) as string[]));
      }
      return ids;
    },

    async receive(max, blockMs, signal) {
      if (closed || signal?.aborted) return [];
      if (blockMs <= 0) {
        const reply = await withGroup(() =>
          redis.call('XREADGROUP', 'GROUP', name, consumer, 'COUNT', max, 'STREAMS', stream, '>'),
        );
        return parseRead(reply);
      }
      return blockingRead(max, blockMs, signal);
    },

    async ack(ids) {
      for (const part of idChunks(ids)) {
        await scripts.ack.run(redis, [stream], [name, ...part]);
      }
    },

    async touch(ids) {
      for (const part of idChunks(ids)) {
        await withGroup(() => scripts.touch.run(redis, [stream], [name, consumer, ...part]));
      }
    },

    async release(id, delayMs, options) {
      if (!ENTRY_ID.test(id)) return;
      await withGroup(() =>
        scripts.release.run(
          redis,
          [stream, delayed],
          [name, consumer, id, Math.max(0, Math.ceil(delayMs)), options?.unworked ? 1 : 0],
        ),
      );
    },

    async deadLetter(id, reason) {
      if (!ENTRY_ID.test(id)) return;
      await withGroup(() => scripts.deadLetter.run(redis, [stream, dead], [name, id, reason]));
    },

    async reclaim(max) {
      const reply = (await withGroup(() =>
        scripts.reclaim.run(redis, [stream], [name, consumer, visibilityMs, reclaimCursor, max]),
      )) as [string, [string, string, number][]];
      // XAUTOCLAIM scans the pending list from the cursor; keeping it lets a long list be covered
      // over several calls instead of re-reading its head every time.
      reclaimCursor = reply[0];
      return reply[1].map(([id, body, deliveries]) => ({ id, body, deliveries: Number(deliveries) }));
    },

    async stats(): Promise<QueueStats> {
      const [length, pending, oldestPendingMs, delayedCount, deadLetters] = (await scripts.stats.run(
        redis,
        [stream, delayed, dead],
        [name],
      )) as number[];
      return {
        length: length ?? 0,
        pending: pending ?? 0,
        lag: Math.max(0, (length ?? 0) - (pending ?? 0)),
        oldestPendingMs: oldestPendingMs ?? 0,
        delayed: delayedCount ?? 0,
        deadLetters: deadLetters ?? 0,
      };
    },

    async deadLetters(limit): Promise<DeadLetter[]> {
      const entries = (await redis.call('XRANGE', dead, '-', '+', 'COUNT', limit)) as [string, Fields][];
      return entries.map(([id, fields]) => ({
        id,
        messageId: fieldOf(fields, 'm') ?? '',
        body: fieldOf(fields, 'b') ?? '',
        reason: fieldOf(fields, 'r') ?? '',
        deliveries: Number(fieldOf(fields, 'd') ?? 0),
      }));
    },

    async promoteDelayed() {
      let moved = 0;
      for (;;) {
        const n = Number(await scripts.promote.run(redis, [stream, delayed], [PROMOTE_BATCH]));
        moved += n;
        if (n < PROMOTE_BATCH) return moved;
      }
    },

    async removeDeadConsumers(idleMs) {
      return (await scripts.removeDeadConsumers.run(redis, [stream], [name, idleMs, consumer])) as string[];
    },

    async close() {
      closed = true;
      for (const end of inFlight) end();
      readers.close();
    },
  };
}
