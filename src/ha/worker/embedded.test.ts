// The embedded default end to end: PGlite, the Postgres-table queue, the outbox relay and the
// worker in one process, with no Redis and no PostgreSQL server.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { migrate, readMigrations } from '../db/migrate.js';
import { createPgliteDatabase } from '../db/pglite.js';
import { enqueueBatch } from '../outbox/outbox.js';
import { createOutboxRelay } from '../outbox/relay.js';
import { createPostgresQueue } from '../queue/postgres/postgres-queue.js';
import { createWorker } from './worker.js';

let db: Database;

beforeAll(async () => {
  db = await createPgliteDatabase();
  await migrate(db, readMigrations(new URL('../../migrations/', import.meta.url)));
});
afterAll(async () => {
  await db.close();
});

it('runs jobs from the outbox to completion on PGlite with the Postgres queue', async () => {
  const queue = createPostgresQueue({ db, name: 'jobs', consumer: 'embedded-1' });
  const registry = new Registry();
  const seen = new Map<string, number>();
  const worker = createWorker({
    queue,
    db,
    nodeId: 'embedded-1',
    registry,
    concurrency: 8,
    handlers: {
      touch: async ({ job, attempt }) => {
        seen.set(job.key, (seen.get(job.key) ?? 0) + 1);
        if (job.key === 'e-7' && attempt === 1) throw new Error('first attempt fails');
      },
    },
    random: () => 0,
  });
  const relay = createOutboxRelay({ db, queue });
  const controller = new AbortController();
  const running = Promise.all([worker.start(controller.signal), relay.start(controller.signal)]);
  try {
    await db.transaction((tx) =>
      enqueueBatch(
        tx,
        Array.from({ length: 40 }, (_, i) => ({ key: `e-${i}`, kind: 'touch' })),
      ),
    );
    const deadline = Date.now() + 20_000;
    const completed = async () =>
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM stratus_ledger WHERE state = 'completed'`,
        )
      ).rows[0]!.n;
    while ((await completed()) < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await completed()).toBe(40);
    expect(seen.get('e-7')).toBe(2);
    expect([...seen.values()].filter((n) => n !== 1)).toEqual([2]);
    const metrics = await registry.getSingleMetricAsString('stratus_jobs_succeeded_total');
    expect(metrics).toContain('stratus_jobs_succeeded_total{kind="touch"} 40');
    expect(await registry.getSingleMetricAsString('stratus_jobs_retried_total')).toContain('} 1');
  } finally {
    controller.abort();
    await running;
    await queue.close();
  }
  const stats = await queue.stats();
  expect(stats.length + stats.delayed).toBe(0);
});
