// `GET /v1/events` (a page of the tenant's events) and `GET /v1/watch` (the same events as
// Server-Sent Events, live, resumable with Last-Event-ID), both over the process's one feed.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError } from '../../control/errors.js';
import type { EventFeed } from '../../control/events/feed.js';
import type { EventFilter, ResourceEvent } from '../../control/events/store.js';
import type { KindRegistry } from '../../core/resources/registry.js';
import { DEFAULT_LIMIT } from '../resources/query.js';
import type { TenantResolver } from '../tenant.js';
import { EventsQuery, WatchQuery } from './schemas.js';
import { openSse, type SseStream } from './sse.js';

const END_MESSAGES = {
  Gone: 'events after the cursor are no longer kept: list again, then watch from the newest event',
  ReadFailed: 'reading events failed: reconnect with Last-Event-ID',
} as const;

/** Options of {@link eventRoutes}. */
export interface EventRoutesOptions {
  readonly feed: EventFeed;
  readonly kinds: KindRegistry;
  readonly tenant: TenantResolver;
  /** Aborts every open stream (the server is closing). */
  readonly signal: AbortSignal;
  /** Between two heartbeat comments of a stream. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Bytes a watcher may leave unread before it is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
}

/** The filter of a request: its tenant, and the kind (checked against the registry) and resource. */
function filterOf(
  request: FastifyRequest,
  tenant: TenantResolver,
  kinds: KindRegistry,
  query: { kind?: string; resource?: string },
): EventFilter {
  if (query.kind !== undefined && kinds.get(query.kind) === undefined)
    throw new BadRequestError(
      '/querystring/kind',
      `is not a kind: one of ${kinds
        .all()
        .map((k) => k.name)
        .join(', ')}`,
    );
  return {
    tenant: tenant(request),
    ...(query.kind === undefined ? {} : { kind: query.kind }),
    ...(query.resource === undefined ? {} : { resourceId: query.resource }),
  };
}

/** The cursor of a watch: `Last-Event-ID` (sent by a reconnecting client) wins over `?since=`. */
function watchCursor(request: FastifyRequest, since: number | undefined): { since?: number; path: string } {
  const header = request.headers['last-event-id'];
  if (header === undefined) return { ...(since === undefined ? {} : { since }), path: '/querystring/since' };
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim()))
    throw new BadRequestError('/headers/last-event-id', 'must be the id of an event, a whole number');
  return { since: Number(header.trim()), path: '/headers/last-event-id' };
}

/** Registers the event routes (inside the `/v1` scope). */
export async function eventRoutes(app: FastifyInstance, options: EventRoutesOptions): Promise<void> {
  const { feed, kinds, tenant } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const open = new Set<SseStream>();
  options.signal.addEventListener('abort', () => {
    for (const stream of open) stream.end('ServerClosing', 'the server is shutting down: reconnect');
  });

  app.get('/events', { schema: { querystring: EventsQuery } }, async (request) => {
    const q = request.query as {
      kind?: string;
      resource?: string;
      since?: number;
      limit?: number;
      latest?: number;
    };
    const filter = filterOf(request, tenant, kinds, q);
    if (q.latest === undefined) return feed.list(filter, q.since, q.limit ?? DEFAULT_LIMIT);
    const clash = q.since !== undefined ? 'since' : q.limit !== undefined ? 'limit' : undefined;
    if (clash !== undefined)
      throw new BadRequestError(`/querystring/${clash}`, 'must not be given with latest (the newest events)');
    return feed.latest(filter, q.latest);
  });

  app.get('/watch', { schema: { querystring: WatchQuery } }, async (request, reply) => {
    const q = request.query as { kind?: string; resource?: string; since?: number };
    const filter = filterOf(request, tenant, kinds, q);
    const cursor = watchCursor(request, q.since);
    // Events wait here until the stream is open: the subscription is taken first, so that a 410
    // can still be an answer, and nothing is missed between it and the headers.
    const early: ResourceEvent[] = [];
    let stream: SseStream | undefined;
    let endedEarly: 'Gone' | 'ReadFailed' | undefined;
    const send = (event: ResourceEvent) => stream?.send(event.id, event.type, event) ?? early.push(event);
    const subscription = await feed.subscribe(
      filter,
      cursor.since,
      {
        send,
        ready: () => stream?.drained() ?? Promise.resolve(),
        end: (reason) => {
          if (stream) stream.end(reason, END_MESSAGES[reason]);
          else endedEarly = reason;
        },
      },
      cursor.path,
    );
    reply.hijack();
    const opened = openSse(reply.raw, {
      heartbeatMs,
      maxBufferedBytes,
      onEnd: () => {
        subscription.close();
        open.delete(opened);
      },
    });
    open.add(opened);
    stream = opened;
    for (const event of early.splice(0)) opened.send(event.id, event.type, event);
    if (endedEarly) opened.end(endedEarly, END_MESSAGES[endedEarly]);
    if (options.signal.aborted) opened.end('ServerClosing', 'the server is shutting down: reconnect');
  });
}
