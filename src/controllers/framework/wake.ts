import type { Database, QueryResult } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { OUTBOX_CHANNEL } from '../../ha/outbox/outbox.js';

const SQL = {
  position: loadText(new URL('./sql/event-position.sql', import.meta.url)),
  after: loadText(new URL('./sql/events-after.sql', import.meta.url)),
};

/** One resource an event was about. */
export interface ChangedResource {
  readonly kind: string;
  readonly id: string;
  /** The resource's owner (migration 0021), when it has one. */
  readonly owner?: string;
}

/** What changed since the last call. */
export interface WakeBatch {
  /** The kinds of the resources that changed. */
  readonly kinds: ReadonlySet<string>;
  /** The resources that changed, each once, in the order of their first event. */
  readonly resources: readonly ChangedResource[];
}

/** Told of the resources that changed since the last call. */
export type WakeListener = (batch: WakeBatch) => void;

/** Where a controller learns that resources changed. */
export interface WakeSource {
  /** Calls `listener` after changes; the returned function unsubscribes. */
  subscribe(listener: WakeListener): () => void;
}

/** Options of {@link eventWake}. */
export interface EventWakeOptions {
  readonly db: Database;
  /**
   * Between two reads when no notification comes. Default 250 ms. Writes that enqueue a job
   * (every create, spec change, action and delete request) notify the outbox channel after they
   * commit, and a notification reads at once; status-only writes are found by this poll.
   */
  readonly pollMs?: number;
  /** The least time between two reads, however many notifications come. Default 10 ms. */
  readonly minGapMs?: number;
  /** The channel whose notifications trigger a read. Default the outbox's; `null` polls only. */
  readonly channel?: string | null;
  readonly onError?: (err: unknown) => void;
}

/** Ids read per statement. */
const PAGE = 1_000;

/** After a LISTEN failed or its session dropped, the least time before listening again. */
const RELISTEN_MS = 5_000;

/** Builds a batch from event rows, each resource once. */
function batchOf(rows: readonly { kind: string; resource_id: string; owner_id: string | null }[]): WakeBatch {
  const kinds = new Set<string>();
  const seen = new Map<string, ChangedResource>();
  for (const row of rows) {
    kinds.add(row.kind);
    if (!seen.has(row.resource_id))
      seen.set(row.resource_id, {
        kind: row.kind,
        id: row.resource_id,
        ...(row.owner_id ? { owner: row.owner_id } : {}),
      });
  }
  return { kinds, resources: [...seen.values()] };
}

/**
 * Wakes controllers on resource events: one reader per process, reading only the ids, kinds and
 * owners of the events after the last one it saw, and only while a controller listens (on the
 * leader). It reads when the outbox channel is notified (after any write that enqueued a job,
 * at most once per `minGapMs`) and every `pollMs` otherwise; the LISTEN session exists only
 * while someone subscribes, and without it the poll alone still wakes. A skipped event
 * (committed after a later one was read) costs a resync period at most.
 */
export function eventWake(options: EventWakeOptions): WakeSource {
  const { db } = options;
  const pollMs = options.pollMs ?? 250;
  const minGapMs = options.minGapMs ?? 10;
  const channel = options.channel === undefined ? OUTBOX_CHANNEL : options.channel;
  const listeners = new Set<WakeListener>();
  let position: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let notified = false;
  let lastReadAt = 0;
  let unlisten: Promise<(() => Promise<void>) | undefined> | undefined;

  const schedule = (ms: number) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => void poll(), ms);
  };

  const read = async () => {
    if (position === undefined) {
      const res = await db.query<{ high: number }>(SQL.position);
      position = Number(res.rows[0]?.high ?? 0);
      return;
    }
    const rows: { kind: string; resource_id: string; owner_id: string | null }[] = [];
    for (;;) {
      const res: QueryResult<{ id: number; kind: string; resource_id: string; owner_id: string | null }> =
        await db.query(SQL.after, [position, PAGE]);
      rows.push(...res.rows);
      if (res.rows.length > 0) position = Number(res.rows.at(-1)!.id);
      if (res.rows.length < PAGE) break;
    }
    if (rows.length === 0) return;
    const batch = batchOf(rows);
    for (const l of [...listeners]) {
      try {
        l(batch);
      } catch (err) {
        options.onError?.(err);
      }
    }
  };

  const poll = async () => {
    timer = undefined;
    reading = true;
    notified = false;
    lastReadAt = performance.now();
    try {
      await read();
    } catch (err) {
      options.onError?.(err);
    }
    reading = false;
    if (listeners.size === 0) return;
    if (unlisten === undefined && performance.now() - listenTriedAt > RELISTEN_MS) startListening();
    if (notified) schedule(Math.max(0, minGapMs - (performance.now() - lastReadAt)));
    else schedule(pollMs);
  };

  const onNotify = () => {
    if (listeners.size === 0) return;
    if (reading) {
      notified = true;
      return;
    }
    schedule(Math.max(0, minGapMs - (performance.now() - lastReadAt)));
  };

  let listenTriedAt = Number.NEGATIVE_INFINITY;
  const startListening = () => {
    if (channel === null || unlisten !== undefined) return;
    listenTriedAt = performance.now();
    const session: Promise<(() => Promise<void>) | undefined> = db
      .listen(channel, onNotify, () => {
        // The session dropped: the poll goes on, and listens again later.
        if (unlisten === session) unlisten = undefined;
      })
      .catch((err: unknown) => {
        options.onError?.(err);
        if (unlisten === session) unlisten = undefined;
        return undefined;
      });
    unlisten = session;
  };

  const stopListening = () => {
    const pending = unlisten;
    unlisten = undefined;
    void pending?.then((stop) => stop?.()).catch(() => {});
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        startListening();
        if (timer === undefined && !reading) schedule(0);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
          position = undefined;
          stopListening();
        }
      };
    },
  };
}

/** A wake source a test fires by hand. */
export function manualWake(): WakeSource & {
  fire(kinds: Iterable<string>, resources?: readonly ChangedResource[]): void;
} {
  const listeners = new Set<WakeListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fire(kinds, resources = []) {
      const batch: WakeBatch = { kinds: new Set([...kinds, ...resources.map((r) => r.kind)]), resources };
      for (const l of [...listeners]) l(batch);
    },
  };
}
