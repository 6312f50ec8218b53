// The cron-jobs kind over the API: a 422 naming the field for a bad expression, zone, URL or
// policy; pause and resume; GET /v1/cron-jobs/:id/runs paged by cursor, of the tenant only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSlots } from '../../src/controllers/cron/slots.js';
import { type ControlHarness, openControlHarness, tenantClient } from '../control/harness.js';

let h: ControlHarness;
const t1 = tenantClient(() => h, 't1');
const t2 = tenantClient(() => h, 't2');
const target = { method: 'POST', url: 'https://hooks.test/x', body: '{}' };
const create = (spec: Record<string, unknown>, name = 'job') =>
  t1.send('POST', '/v1/cron-jobs', { name, spec: { schedule: '*/5 * * * *', target, ...spec } });

beforeAll(async () => {
  h = await openControlHarness('pg');
});
afterAll(async () => {
  await h?.close();
});

describe('cron-jobs', () => {
  it.each([
    [{ schedule: '61 * * * *' }, '/spec/schedule', /minute/],
    [{ schedule: 'every day' }, '/spec/schedule', /5 fields/],
    [{ timeZone: 'Mars/Base' }, '/spec/timeZone', /IANA/],
    [{ target: { ...target, url: 'ftp://hooks.test' } }, '/spec/target/url', /http/],
    [{ maxCatchUp: 5 }, '/spec/maxCatchUp', /catch-up/],
    [{ missedSlots: 'sometimes' }, '/spec/missedSlots', /./],
  ])('refuses %j with a 422 naming %s', async (spec, path, message) => {
    const res = await create(spec);
    expect(res.status).toBe(422);
    const errors = res.body.errors as { path: string; message: string }[];
    expect(errors.map((e) => e.path)).toContain(path);
    expect(errors.find((e) => e.path === path)!.message).toMatch(message);
  });

  it('creates a job, pauses and resumes it, and lists its runs newest first by cursor, for its tenant only', async () => {
    const created = await create(
      { timeZone: 'Europe/Berlin', missedSlots: 'catch-up', maxCatchUp: 3 },
      'paged',
    );
    expect(created.status).toBe(202);
    const id = created.body.resource?.id ?? created.body.id;
    expect(id).toMatch(/^cron_/);
    const paused = await t1.send('POST', `/v1/cron-jobs/${id}/pause`);
    expect(paused.status).toBeLessThan(300);
    expect((await t1.send('GET', `/v1/cron-jobs/${id}`)).body.spec.paused).toBe(true);
    expect((await t1.send('POST', `/v1/cron-jobs/${id}/resume`)).status).toBeLessThan(300);
    expect((await t1.send('GET', `/v1/cron-jobs/${id}`)).body.spec.paused).toBeUndefined();
    expect((await t1.send('PATCH', `/v1/cron-jobs/${id}`, { spec: { paused: true } })).status).toBe(422);

    const base = Date.parse('2026-01-01T00:00:00Z');
    const slots = [0, 1, 2, 3, 4].map((n) => ({
      jobId: id,
      tenant: 't1',
      slot: base + n * 300_000,
      request: { ...target, method: 'POST' as const, source: `cron-jobs/${id}` },
      caughtUp: false,
    }));
    await recordSlots(h.db, slots, [], 1);
    const first = await t1.send('GET', `/v1/cron-jobs/${id}/runs?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { slot: string }) => r.slot)).toEqual([
      '2026-01-01T00:20:00.000Z',
      '2026-01-01T00:15:00.000Z',
    ]);
    expect(first.body.items[0]).toMatchObject({
      state: 'pending',
      attempts: 0,
      caughtUp: false,
      finishedAt: null,
    });
    const rest = await t1.send('GET', `/v1/cron-jobs/${id}/runs?limit=10&cursor=${first.body.nextCursor}`);
    expect(rest.body.items).toHaveLength(3);
    expect(rest.body.nextCursor).toBeUndefined();

    expect((await t2.send('GET', `/v1/cron-jobs/${id}/runs`)).status).toBe(404);
    const badCursor = await t1.send('GET', `/v1/cron-jobs/${id}/runs?cursor=nope`);
    expect(badCursor.status).toBe(400);
    expect(JSON.stringify(badCursor.body)).toContain('/querystring/cursor');
    expect((await t1.send('GET', `/v1/cron-jobs/${id}/runs?limit=0`)).status).toBe(400);
  });
});
