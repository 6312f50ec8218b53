import type { Database, QueryResult } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = {
  position: loadText(new URL('./sql/event-position.sql', import.meta.url)),
  after: loadText(new URL('./sql/events-after.sql', import.meta.url)),
};

/** Told of the kinds of the resources that changed since the last call. */
export type WakeListener = (kinds: ReadonlySet<string>) => void;

/** Where a controller learns that resources changed. */
export interface WakeSource {
  /** Calls `listener` after changes; the returned function unsubscribes. */
  subscribe(listener: WakeListener): () => void;
}

/** Options of {@link eventWake}. */
export interface EventWakeOptions {
  readonly db: Database;
  /** Between two reads. Default 250 ms. */
  readonly pollMs?: number;
  readonly onError?: (err: unknown) => void;
}

/** Ids read per statement. */
const PAGE = 1_000;

/**
 * Wakes controllers on resource events: one poller per process, reading only ids and kinds of
 * the events after the last one it saw, and only while a controller listens (on the leader). A
 * poll, not LISTEN: the event trigger notifies nobody, and an index-only read every 250 ms
 * costs less than a listening connection per process. A skipped event (committed after a later
 * one was read) costs a resync period at most.
 */
export function eventWake(options: EventWakeOptions): WakeSource {
  const { db } = options;
  const pollMs = options.pollMs ?? 250;
  const listeners = new Set<WakeListener>();
  let position: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  const poll = async () => {
    timer = undefined;
    try {
      if (position === undefined) {
        const res = await db.query<{ high: number }>(SQL.position);
        position = Number(res.rows[0]?.high ?? 0);
      } else {
        const kinds = new Set<string>();
        for (;;) {
          const res: QueryResult<{ id: number; kind: string }> = await db.query(SQL.after, [position, PAGE]);
          for (const row of res.rows) kinds.add(row.kind);
          if (res.rows.length > 0) position = Number(res.rows.at(-1)!.id);
          if (res.rows.length < PAGE) break;
        }
        if (kinds.size > 0)
          for (const l of [...listeners]) {
            try {
              l(kinds);
            } catch (err) {
              options.onError?.(err);
            }
          }
      }
    } catch (err) {
      options.onError?.(err);
    }
    if (listeners.size > 0) timer = setTimeout(() => void poll(), pollMs);
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && timer === undefined) timer = setTimeout(() => void poll(), 0);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
          position = undefined;
        }
      };
    },
  };
}

/** A wake source a test fires by hand. */
export function manualWake(): WakeSource & { fire(kinds: Iterable<string>): void } {
  const listeners = new Set<WakeListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fire(kinds) {
      const set = new Set(kinds);
      for (const l of [...listeners]) l(set);
    },
  };
}
