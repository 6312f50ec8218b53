// One process's reader of the event log: listings (`GET /v1/events`) and the fan-out of the watch
// stream. A single poller per process reads every new event below the horizon and hands it to
// every live subscriber, whatever their number; a subscriber resuming from an older cursor first
// pages through the log on its own, then joins the live fan-out. Every replica reads the same
// table, so an event written anywhere reaches watchers everywhere.

import type { Database } from '../../ha/db/database.js';
import { EventsGoneError } from '../errors.js';
import { createEventHorizon } from './horizon.js';
import {
  type EventFilter,
  listEvents,
  listLatestEvents,
  matches,
  prunedUpTo,
  type ResourceEvent,
  readEvents,
} from './store.js';

/** Events read per statement, by the poller and by a subscriber catching up. */
const PAGE = 200;

/** Where a subscriber's events go. */
export interface EventSink {
  /** Takes one event; the sink itself decides what to do with a client too slow to take it. */
  send(event: ResourceEvent): void;
  /** Resolves when the sink can take another page (a catching-up subscriber waits for it). */
  ready(): Promise<void>;
  /** The subscription ended from the feed's side: the log lost events it had not read, or a read failed. */
  end(reason: 'Gone' | 'ReadFailed'): void;
}

/** A live subscription. */
export interface Subscription {
  /** Stops delivery; idempotent. */
  close(): void;
}

/** A page of a listing. */
export interface EventPage {
  readonly items: ResourceEvent[];
  /** The `since` of the next page: the last item's id, or the horizon when the page is not full. */
  readonly nextSince: number;
  /** The page was full: more events may follow at once. */
  readonly more: boolean;
}

/** Options of {@link createEventFeed}. */
export interface EventFeedOptions {
  readonly db: Database;
  /** Between two reads of the poller. Default 100 ms. */
  readonly pollMs?: number;
  /** A poll that failed (it is retried at the next tick). */
  readonly onError?: (err: unknown) => void;
}

/** Listings and subscriptions over the event log. */
export interface EventFeed {
  /**
   * Up to `limit` events of the filter after `since` (all retained when absent), up to the
   * horizon. Throws {@link EventsGoneError} (naming `sincePath`) when events after `since` were pruned.
   */
  list(filter: EventFilter, since: number | undefined, limit: number, sincePath?: string): Promise<EventPage>;
  /**
   * The newest `limit` events of the filter, oldest of them first, with the horizon as
   * `nextSince`: a watch from there misses none that follow.
   */
  latest(filter: EventFilter, limit: number): Promise<EventPage>;
  /**
   * Delivers to `sink` the filter's events after `since` (from now on when absent), then every new
   * one. Throws {@link EventsGoneError} before delivering anything when events after `since` were pruned.
   */
  subscribe(
    filter: EventFilter,
    since: number | undefined,
    sink: EventSink,
    sincePath?: string,
  ): Promise<Subscription>;
  /** Subscribers right now (for tests and metrics). */
  subscribers(): number;
}

interface Subscriber {
  readonly filter: EventFilter;
  readonly sink: EventSink;
  /** Everything up to here was delivered or did not match. */
  cursor: number;
  /** Joined the fan-out: the poller delivers to it. */
  live: boolean;
  closed: boolean;
}

/** Builds the feed of one process. Idle (no query) while nobody subscribes. */
export function createEventFeed(options: EventFeedOptions): EventFeed {
  const { db } = options;
  const pollMs = options.pollMs ?? 100;
  const horizon = createEventHorizon();
  const subs = new Set<Subscriber>();
  /** Everything up to here was read by the poller and fanned out to live subscribers. */
  let position = 0;
  let polling: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const checkGone = async (since: number, path: string) => {
    const upTo = await prunedUpTo(db);
    if (since < upTo) throw new EventsGoneError(path, since, upTo);
  };

  const fanOut = (events: readonly ResourceEvent[]) => {
    for (const sub of subs) {
      if (!sub.live || sub.closed) continue;
      for (const event of events)
        if (event.id > sub.cursor) {
          if (matches(sub.filter, event)) sub.sink.send(event);
          sub.cursor = event.id;
        }
    }
  };

  const tick = async () => {
    const upTo = await horizon.advance(db);
    while (position < upTo) {
      const batch = await readEvents(db, position, upTo, PAGE);
      // Position and delivery move together, with no await between them: a subscriber joining
      // the fan-out sees either all of this batch from the poller or none of it.
      const next = batch.length < PAGE ? upTo : batch.at(-1)!.id;
      fanOut(batch);
      position = next;
      for (const sub of subs) if (sub.live && sub.cursor < position) sub.cursor = position;
    }
  };

  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = async () => {
    while (subs.size > 0) {
      try {
        await tick();
      } catch (err) {
        options.onError?.(err);
      }
      if (subs.size === 0) break;
      await pause();
    }
    polling = undefined;
  };

  /** Starts the poller at the current horizon if it is not running. */
  const startPolling = async () => {
    if (polling) return;
    if (position === 0) position = Math.max(position, await horizon.advance(db));
    polling ??= loop();
  };

  /** Pages the subscriber up to the poller's position, then lets it join the fan-out. */
  const catchUp = async (sub: Subscriber, path: string) => {
    let first = true;
    for (;;) {
      if (sub.closed) return;
      const upTo = position;
      if (sub.cursor >= upTo) {
        // Checked and set with no await between: the poller's next batch reaches it.
        sub.live = true;
        return;
      }
      const page = await listEvents(db, sub.filter, sub.cursor, upTo, PAGE);
      if (first) await checkGone(sub.cursor, path);
      first = false;
      for (const event of page) if (!sub.closed) sub.sink.send(event);
      sub.cursor = page.length < PAGE ? upTo : page.at(-1)!.id;
      await sub.sink.ready();
    }
  };

  return {
    subscribers: () => subs.size,

    async list(filter, since, limit, sincePath = '/querystring/since') {
      const upTo = await horizon.advance(db);
      const after = since ?? 0;
      const rows = await listEvents(db, filter, after, upTo, limit + 1);
      // Read after the page: a prune that ran before it would show here.
      if (since !== undefined) await checkGone(since, sincePath);
      const items = rows.slice(0, limit);
      const more = rows.length > limit;
      return { items, more, nextSince: more ? items.at(-1)!.id : Math.max(after, upTo) };
    },

    async latest(filter, limit) {
      const upTo = await horizon.advance(db);
      const items = await listLatestEvents(db, filter, upTo, limit);
      return { items, more: false, nextSince: upTo };
    },

    async subscribe(filter, since, sink, sincePath = '/querystring/since') {
      const sub: Subscriber = { filter, sink, cursor: 0, live: false, closed: false };
      subs.add(sub);
      const close = () => {
        sub.closed = true;
        subs.delete(sub);
        if (subs.size === 0) wake?.();
      };
      try {
        await startPolling();
        sub.cursor = since ?? position;
        if (since !== undefined && since < position) {
          // The first page and the retention check before the caller answers anything.
          await checkGone(since, sincePath);
        }
      } catch (err) {
        close();
        throw err;
      }
      catchUp(sub, sincePath).catch((err: unknown) => {
        if (sub.closed) return;
        close();
        sink.end(err instanceof EventsGoneError ? 'Gone' : 'ReadFailed');
        if (!(err instanceof EventsGoneError)) options.onError?.(err);
      });
      return { close };
    },
  };
}
