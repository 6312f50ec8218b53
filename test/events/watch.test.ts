// The watch stream on PostgreSQL: events that commit out of id order still reach a watcher (and
// a naive `id > last` reader loses them), one replica's writes reach another replica's watchers
// over a real socket, Last-Event-ID resumes, a closing server ends its streams at once, and one
// poller per process serves every watcher.

import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlApi } from '../../src/api/resources/index.js';
import { tenantFromHeader } from '../../src/api/tenant.js';
import { createAuthService } from '../../src/control/auth/index.js';
import { createEventFeed, type EventFeed } from '../../src/control/events/feed.js';
import { listEvents, type ResourceEvent } from '../../src/control/events/store.js';
import { createResourceService } from '../../src/control/service.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import type { Database, QueryResult } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { migrations } from '../../src/migrations/index.js';
import { TENANT_HEADER } from '../control/harness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { PG_URL } from '../helpers/services.js';
import { openSseClient } from './sse-client.js';
import { widgetKind } from './widgets.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers by path
type Json = Record<string, any>;

/** One replica's API over its own pool; `reads` counts the poller's reads of the log. */
interface Replica {
  db: Database;
  app: FastifyInstance;
  feed: EventFeed;
  /** Event ids each of the poller's reads returned. */
  reads: number[][];
}

const READ_EVENTS = /FROM stratus_events\s+WHERE id > \$1/;

async function openReplica(url: string): Promise<Replica> {
  const pool = createPgDatabase({ connectionString: url, max: 5 });
  const reads: number[][] = [];
  // The same pool, with the poller's reads recorded.
  const db: Database = {
    ...pool,
    driver: pool.driver,
    transaction: (fn) => pool.transaction(fn),
    listen: (c, f) => pool.listen(c, f),
    close: () => pool.close(),
    exec: (sql) => pool.exec(sql),
    async query(sql, params) {
      const res = (await pool.query(sql, params)) as QueryResult;
      if (READ_EVENTS.test(sql)) reads.push(res.rows.map((r) => Number(r.id)));
      return res as never;
    },
  };
  const kinds = new KindRegistry([widgetKind()]);
  const service = createResourceService({ db, kinds });
  const feed = createEventFeed({ db, pollMs: 10 });
  const app = Fastify({ logger: false, forceCloseConnections: 'idle', return503OnClosing: true });
  await controlApi(app, {
    service,
    kinds,
    events: feed,
    auth: createAuthService({ db }),
    tenant: tenantFromHeader(TENANT_HEADER),
    heartbeatMs: 50,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { db, app, feed, reads };
}

const urlOf = (r: Replica) => {
  const address = r.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
};

async function create(r: Replica, tenant: string, name: string): Promise<Json> {
  const res = await r.app.inject({
    method: 'POST',
    url: '/v1/widgets',
    headers: { [TENANT_HEADER]: tenant },
    payload: { name, spec: { size: 1 } },
  });
  expect(res.statusCode).toBe(202);
  return res.json().resource;
}

async function relabel(r: Replica, tenant: string, id: string, labels: Record<string, string>) {
  const res = await r.app.inject({
    method: 'PATCH',
    url: `/v1/widgets/${id}`,
    headers: { [TENANT_HEADER]: tenant },
    payload: { labels },
  });
  expect(res.statusCode).toBe(200);
}

describe('the watch stream on pg', () => {
  let t: TestDatabase;
  let one: Replica;
  let two: Replica;
  beforeAll(async () => {
    t = await createTestDatabase();
    const db = createPgDatabase({ connectionString: t.url, max: 2 });
    await migrate(db, migrations);
    await db.close();
    one = await openReplica(t.url);
    two = await openReplica(t.url);
  });
  afterAll(async () => {
    for (const r of [one, two]) {
      await r?.app.close();
      await r?.db.close();
    }
    await t?.drop();
  });

  it('delivers an event whose transaction commits after a later one; a naive id > last reader loses it', async () => {
    const tenant = 't-late';
    const a = await create(one, tenant, 'late');
    const b = await create(one, tenant, 'early');
    const received: ResourceEvent[] = [];
    const sub = await one.feed.subscribe({ tenant }, undefined, {
      send: (e) => received.push(e),
      ready: async () => {},
      end: () => {},
    });
    const filter = { tenant };
    const everything = Number.MAX_SAFE_INTEGER;
    let naiveCursor = Math.max(0, ...(await listEvents(one.db, filter, 0, everything, 500)).map((e) => e.id));

    // A writer draws its event id, then holds its transaction open.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let written!: () => void;
    const drawn = new Promise<void>((resolve) => {
      written = resolve;
    });
    const late = one.db.transaction(async (tx) => {
      await tx.query(`UPDATE stratus_resources SET labels = '{"late":"yes"}'::jsonb WHERE id = $1`, [a.id]);
      written();
      await gate;
    });
    await drawn;
    // A second writer draws a higher id and commits first.
    await relabel(one, tenant, b.id, { early: 'yes' });

    const naive: ResourceEvent[] = [];
    const naiveRead = async () => {
      const page = await listEvents(one.db, filter, naiveCursor, everything, 500);
      naive.push(...page);
      naiveCursor = Math.max(naiveCursor, ...page.map((e) => e.id));
    };
    await naiveRead();
    expect(naive.map((e) => e.resourceId)).toEqual([b.id]);
    // The horizon holds at the open writer: neither event is final, so none was delivered.
    const held = await one.feed.list(filter, naiveCursor - 1, 50);
    expect(held.items).toEqual([]);
    expect(received).toEqual([]);

    release();
    await late;
    await until(() => received.length >= 2, 10_000, 'both events at the watcher');
    expect(received.map((e) => [e.resourceId, e.type])).toEqual([
      [a.id, 'LabelsChanged'],
      [b.id, 'LabelsChanged'],
    ]);
    expect(received[0]!.id).toBeLessThan(received[1]!.id);
    // The naive reader, polling on, never sees the late event: its cursor is past it.
    await naiveRead();
    expect(naive.map((e) => e.resourceId)).toEqual([b.id]);
    expect(naive.some((e) => e.resourceId === a.id)).toBe(false);
    sub.close();
  });

  it('is not held back by a long transaction in another database of the same server', async () => {
    // A transaction with an xid, open in another database: a horizon from the snapshot's xmin
    // (server-wide) would stop here until it ends.
    const other = new pg.Client({ connectionString: PG_URL });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_current_xact_id()');
      const w = await create(one, 't-elsewhere', 'free');
      const page = await one.feed.list({ tenant: 't-elsewhere' }, undefined, 50);
      expect(page.items.map((e) => e.resourceId)).toEqual([w.id]);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
  });

  it("streams one replica's writes to a watcher on another over a real socket, and resumes with Last-Event-ID", async () => {
    const tenant = 't-sse';
    const stream = await openSseClient(`${urlOf(two)}/v1/watch?kind=widgets`, { [TENANT_HEADER]: tenant });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    await until(() => stream.comments.includes('stream open'), 5000, 'the stream to open');
    // Another tenant's write on the same replica never shows.
    await create(one, 't-other', 'unseen');
    const w = await create(one, tenant, 'watched');
    await relabel(one, tenant, w.id, { v: '1' });
    await until(() => stream.frames.length >= 2, 10_000, 'two frames');
    const [first, second] = stream.frames;
    expect(first).toMatchObject({ event: 'Created' });
    expect(second).toMatchObject({ event: 'LabelsChanged' });
    const data = JSON.parse(first!.data!);
    expect(data).toMatchObject({ tenant, kind: 'widgets', resourceId: w.id, type: 'Created' });
    expect(first!.id).toBe(String(data.id));
    expect(stream.frames.every((f) => JSON.parse(f.data!).tenant === tenant)).toBe(true);
    // Heartbeat comments keep an idle stream open.
    await until(() => stream.comments.includes('heartbeat'), 5000, 'a heartbeat');
    stream.abort();
    await stream.closed;
    await until(() => two.feed.subscribers() === 0, 5000, 'the watcher to be gone');

    // Missed while disconnected, then resumed from the last id seen.
    await relabel(one, tenant, w.id, { v: '2' });
    await relabel(one, tenant, w.id, { v: '3' });
    const resumed = await openSseClient(`${urlOf(two)}/v1/watch?kind=widgets&since=0`, {
      [TENANT_HEADER]: tenant,
      'last-event-id': second!.id!,
    });
    await until(() => resumed.frames.length >= 2, 10_000, 'the missed frames');
    expect(resumed.frames.map((f) => JSON.parse(f.data!).resource.labels)).toEqual([{ v: '2' }, { v: '3' }]);
    expect(Number(resumed.frames[0]!.id)).toBeGreaterThan(Number(second!.id));
    // And it goes on live.
    await relabel(one, tenant, w.id, { v: '4' });
    await until(() => resumed.frames.length >= 3, 10_000, 'a live frame after the resume');
    expect(JSON.parse(resumed.frames[2]!.data!).resource.labels).toEqual({ v: '4' });
    resumed.abort();
    await resumed.closed;
  });

  it('reads each event once per process, however many watch', async () => {
    const tenant = 't-fan';
    const streams = await Promise.all(
      Array.from({ length: 12 }, () => openSseClient(`${urlOf(two)}/v1/watch`, { [TENANT_HEADER]: tenant })),
    );
    await until(() => streams.every((s) => s.comments.includes('stream open')), 5000, 'every stream open');
    const w = await create(one, tenant, 'fanned');
    await until(() => streams.every((s) => s.frames.length >= 1), 10_000, 'the event at every watcher');
    const id = Number(streams[0]!.frames[0]!.id);
    expect(
      streams.every(
        (s) => Number(s.frames[0]!.id) === id && JSON.parse(s.frames[0]!.data!).resourceId === w.id,
      ),
    ).toBe(true);
    // The poller's reads: the event came back from exactly one of them, for twelve watchers.
    expect(two.reads.filter((ids) => ids.includes(id))).toHaveLength(1);
    for (const s of streams) s.abort();
    await Promise.all(streams.map((s) => s.closed));
  });

  it('ends open streams at once when the server closes, with an end frame', async () => {
    const three = await openReplica(t.url);
    const stream = await openSseClient(`${urlOf(three)}/v1/watch`, { [TENANT_HEADER]: 't-close' });
    await until(() => three.feed.subscribers() === 1, 5000, 'the watcher');
    const started = performance.now();
    await three.app.close();
    const took = performance.now() - started;
    await stream.closed;
    expect(stream.frames.at(-1)).toMatchObject({ event: 'end' });
    expect(JSON.parse(stream.frames.at(-1)!.data!)).toMatchObject({ reason: 'ServerClosing' });
    // Nowhere near a keep-alive or heartbeat timeout.
    expect(took).toBeLessThan(2000);
    expect(three.feed.subscribers()).toBe(0);
    await three.db.close();
  });
});
