// The event log on PGlite and PostgreSQL: one event per write of a resource, from every path that
// writes one, in the writing transaction; `GET /v1/events` with its filters, pages, tenant
// isolation, query checks and retention (410).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneEvents } from '../../src/control/events/store.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import { networks } from '../../src/kinds/networks/index.js';
import { type ControlHarness, eventually, openControlHarness, TENANT_HEADER } from '../control/harness.js';
import { drivers } from '../helpers/db.js';
import { widgetKind } from './widgets.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers by path
type Json = Record<string, any>;

const client = (h: ControlHarness, tenant: string) => ({
  async send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) {
    const res = await h.app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: tenant, ...headers },
      ...(payload ? { payload } : {}),
    });
    return {
      status: res.statusCode,
      body: res.body ? (res.json() as Json) : {},
      type: res.headers['content-type'],
    };
  },
  async events(query: string): Promise<Json> {
    const res = await this.send('GET', `/v1/events${query}`);
    expect(res.status).toBe(200);
    return res.body;
  },
  async settle(operationId: string): Promise<Json> {
    return eventually(
      async () => (await this.send('GET', `/v1/operations/${operationId}?wait=2s`)).body,
      (op) => !['pending', 'running'].includes(op.state),
      `operation ${operationId}`,
    );
  },
});

describe.each(drivers)('events on %s', (driver) => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness(driver, { kinds: new KindRegistry([networks, widgetKind()]) });
    h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('every write of a resource appends one event, from the API and from the reconciler, in order', async () => {
    const api = client(h, 't1');
    const created = await api.send('POST', '/v1/widgets', { name: 'w1', spec: { size: 1 } });
    const id = created.body.resource.id as string;
    await api.settle(created.body.operation.id);
    const labelled = await api.send('PATCH', `/v1/widgets/${id}`, { labels: { env: 'prod' } });
    expect(labelled.status).toBe(200);
    const resized = await api.send('PATCH', `/v1/widgets/${id}`, { spec: { size: 2 } });
    await api.settle(resized.body.operation.id);
    const deleted = await api.send('DELETE', `/v1/widgets/${id}`);
    await api.settle(deleted.body.operation.id);

    const page = await eventually(
      () => api.events(`?resource=${id}`),
      (p) => p.items.at(-1)?.type === 'Deleted',
      'the Deleted event',
    );
    const items = page.items as Json[];
    const types = items.map((e) => e.type);
    // The reconciler's status writes come between the API's writes; each API write is one event.
    expect(types[0]).toBe('Created');
    expect(types.filter((t) => t !== 'StatusChanged')).toEqual([
      'Created',
      'LabelsChanged',
      'SpecChanged',
      'DeletionRequested',
      'Deleted',
    ]);
    expect(types.indexOf('StatusChanged')).toBe(1);
    // Ids and resource versions grow together: the log is in the order of the writes.
    for (let i = 1; i < items.length; i++) {
      expect(items[i]!.id).toBeGreaterThan(items[i - 1]!.id);
      expect(Number(items[i]!.resourceVersion)).toBeGreaterThan(Number(items[i - 1]!.resourceVersion));
    }
    const first = items[0]!;
    expect(first).toMatchObject({
      tenant: 't1',
      kind: 'widgets',
      resourceId: id,
      name: 'w1',
      generation: 1,
      resourceVersion: created.body.resource.resourceVersion,
      phase: 'Provisioning',
      reason: 'Provisioning',
    });
    // The snapshot renders as the API renders the resource.
    expect(first.resource).toEqual(created.body.resource);
    const ready = items.find((e) => e.type === 'StatusChanged')!;
    expect(ready).toMatchObject({
      phase: 'Ready',
      reason: 'Available',
      resource: { status: { outputs: { size: 1 } } },
    });
    expect(items.find((e) => e.type === 'LabelsChanged')!.resource.labels).toEqual({ env: 'prod' });
    expect(items.find((e) => e.type === 'SpecChanged')).toMatchObject({
      generation: 2,
      resource: { spec: { size: 2 } },
    });
    expect(items.find((e) => e.type === 'DeletionRequested')).toMatchObject({
      generation: 3,
      phase: 'Deleting',
    });
    expect(items.at(-1)).toMatchObject({ type: 'Deleted', generation: 3 });
  });

  it('a write that rolls back leaves no event, and a status written again unchanged adds none', async () => {
    const api = client(h, 't-rollback');
    const created = await api.send('POST', '/v1/widgets', { name: 'w-rb', spec: { size: 3 } });
    const id = created.body.resource.id as string;
    await api.settle(created.body.operation.id);
    const before = (await api.events(`?resource=${id}`)).items.length;
    await expect(
      h.db.transaction(async (tx) => {
        await tx.query(`UPDATE stratus_resources SET labels = '{"x":"1"}'::jsonb WHERE id = $1`, [id]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await h.db.query('UPDATE stratus_resources SET status = status WHERE id = $1', [id]);
    // A name clash is refused inside the transaction: no event for the refused create either.
    expect((await api.send('POST', '/v1/widgets', { name: 'w-rb', spec: { size: 3 } })).status).toBe(409);
    const after = await api.events('');
    expect(after.items.filter((e: Json) => e.resourceId === id)).toHaveLength(before);
    expect(after.items.filter((e: Json) => e.name === 'w-rb' && e.type === 'Created')).toHaveLength(1);
    // The check can fail: a committed write does add its event.
    await h.db.query(`UPDATE stratus_resources SET labels = '{"x":"1"}'::jsonb WHERE id = $1`, [id]);
    expect((await api.events(`?resource=${id}`)).items).toHaveLength(before + 1);
  });

  it('filters by kind, resource and since, and pages with nextSince', async () => {
    const api = client(h, 't-filter');
    const net = await api.send('POST', '/v1/networks', { name: 'n1', spec: { cidr: '10.1.0.0/24' } });
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const w = await api.send('POST', '/v1/widgets', { name, spec: { size: 5 } });
      ids.push(w.body.resource.id);
    }
    const all = await eventually(
      () => api.events('?kind=widgets&limit=500'),
      (p) => ids.every((id) => p.items.some((e: Json) => e.resourceId === id)),
      'three widgets',
    );
    expect(all.items.every((e: Json) => e.kind === 'widgets' && e.tenant === 't-filter')).toBe(true);
    const nets = await api.events('?kind=networks');
    expect(nets.items.map((e: Json) => e.resourceId)).toContain(net.body.resource.id);
    expect(nets.items.every((e: Json) => e.kind === 'networks')).toBe(true);
    const one = await api.events(`?resource=${ids[1]}`);
    expect(one.items.length).toBeGreaterThan(0);
    expect(one.items.every((e: Json) => e.resourceId === ids[1])).toBe(true);

    // Pages of two, each after the previous one's nextSince, give the whole listing once.
    const seen: number[] = [];
    let since = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = await api.events(`?kind=widgets&limit=2&since=${since}`);
      seen.push(...page.items.map((e: Json) => e.id));
      expect(page.nextSince).toBeGreaterThanOrEqual(since);
      since = page.nextSince;
      if (!page.more) break;
      expect(page.items).toHaveLength(2);
      expect(page.nextSince).toBe(page.items[1].id);
    }
    const allIds = all.items.map((e: Json) => e.id);
    expect(seen.slice(0, allIds.length)).toEqual(allIds);
    // `since` is exclusive.
    const after = await api.events(`?kind=widgets&since=${allIds[0]}&limit=500`);
    expect(after.items[0].id).toBe(allIds[1]);

    // The newest two, oldest of them first, and the horizon to go on from: every event up to it
    // is in the full listing read next, and the two are its last two.
    const latest = await api.events('?kind=widgets&latest=2');
    expect(latest.more).toBe(false);
    const upTo = (await api.events('?kind=widgets&limit=500')).items
      .map((e: Json) => e.id as number)
      .filter((id: number) => id <= latest.nextSince);
    expect(latest.items.map((e: Json) => e.id)).toEqual(upTo.slice(-2));
    // More than there are: all of one resource's, in order.
    const mineLatest = await api.events(`?resource=${ids[0]}&latest=500`);
    const mineAll = await api.events(`?resource=${ids[0]}&limit=500&since=0`);
    expect(mineLatest.items.map((e: Json) => e.id)).toEqual(
      mineAll.items.filter((e: Json) => e.id <= mineLatest.nextSince).map((e: Json) => e.id),
    );
  });

  it("keeps tenants apart: another tenant's events never appear, and its resource id lists nothing", async () => {
    const mine = client(h, 't-a');
    const theirs = client(h, 't-b');
    const w = await mine.send('POST', '/v1/widgets', { name: 'private', spec: { size: 9 } });
    const id = w.body.resource.id as string;
    await eventually(
      () => mine.events(`?resource=${id}`),
      (p) => p.items.length > 0,
      'the event in its own tenant',
    );
    const other = await theirs.events('?limit=500');
    expect(other.items.filter((e: Json) => e.tenant !== 't-b')).toEqual([]);
    expect((await theirs.events(`?resource=${id}`)).items).toEqual([]);
    // The same answer as an id that does not exist at all: nothing to probe.
    expect((await theirs.events('?resource=wid_00000000000000000000000000')).items).toEqual([]);
  });

  it('refuses bad query values with a 400 naming the field', async () => {
    const api = client(h, 't1');
    const cases: Array<[string, string]> = [
      ['/v1/events?limit=0', '/querystring/limit'],
      ['/v1/events?limit=501', '/querystring/limit'],
      ['/v1/events?since=-1', '/querystring/since'],
      ['/v1/events?since=abc', '/querystring/since'],
      ['/v1/events?kind=gizmos', '/querystring/kind'],
      ['/v1/events?colour=red', '/querystring'],
      ['/v1/events?latest=0', '/querystring/latest'],
      ['/v1/events?latest=5&since=3', '/querystring/since'],
      ['/v1/events?latest=5&limit=3', '/querystring/limit'],
      ['/v1/watch?kind=gizmos', '/querystring/kind'],
      ['/v1/watch?since=x', '/querystring/since'],
    ];
    for (const [url, path] of cases) {
      const res = await api.send('GET', url);
      expect(res.status, url).toBe(400);
      expect(res.type).toContain('application/problem+json');
      expect(
        res.body.errors.map((e: Json) => e.path).some((p: string) => p.startsWith(path)),
        url,
      ).toBe(true);
    }
    const badHeader = await api.send('GET', '/v1/watch', undefined, { 'last-event-id': 'abc' });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.errors).toEqual([{ path: '/headers/last-event-id', message: expect.any(String) }]);
  });

  it('answers 410 for a cursor older than the retained events, on the listing and the watch', async () => {
    const api = client(h, 't-gone');
    for (const name of ['g1', 'g2']) await api.send('POST', '/v1/widgets', { name, spec: { size: 1 } });
    const before = await eventually(
      () => api.events(''),
      (p) => p.items.length >= 2,
      'two events',
    );
    const oldest = before.items[0].id as number;
    const pruned = await pruneEvents(h.db, 0);
    expect(pruned.removed).toBeGreaterThan(0);
    expect(pruned.upTo).toBeGreaterThanOrEqual(before.items.at(-1).id);
    const gone = await api.send('GET', `/v1/events?since=${oldest}`);
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ code: 'EVENTS_GONE', errors: [{ path: '/querystring/since' }] });
    const watchGone = await api.send('GET', `/v1/watch?since=${oldest}`);
    expect(watchGone.status).toBe(410);
    const headerGone = await api.send('GET', '/v1/watch', undefined, { 'last-event-id': String(oldest) });
    expect(headerGone).toMatchObject({ status: 410, body: { errors: [{ path: '/headers/last-event-id' }] } });
    // From the pruned mark on, nothing was lost: the listing answers.
    expect((await api.send('GET', `/v1/events?since=${pruned.upTo}`)).status).toBe(200);
    // Without a cursor, the listing starts at the oldest event kept.
    expect((await api.send('GET', '/v1/events')).status).toBe(200);
  });
});
