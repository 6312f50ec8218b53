import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/index.js';
import { enqueue } from '../../src/ha/outbox/outbox.js';
import type { DeadLetterInfo, JobContext } from '../../src/ha/worker/types.js';
import { type App, startApp } from '../../src/runtime/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';

const quiet = pino({ level: 'silent' });

let t: TestDatabase;
const redis = testRedisPrefix();
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await redis.cleanup();
  await t.drop();
});

function config(overrides: Partial<Config>): Config {
  return { ...loadConfig(), port: 0, ...overrides };
}

/** Starts a process with an `echo` handler that records each run, and collects dead letters. */
async function startWithEcho(overrides: Partial<Config>) {
  const runs: JobContext[] = [];
  const deadLetters: DeadLetterInfo[] = [];
  const app = await startApp(config(overrides), {
    logger: quiet,
    handlers: {
      echo: async (ctx) => {
        runs.push(ctx);
      },
    },
    onDeadLetter: (info) => {
      deadLetters.push(info);
    },
  });
  return { app, runs, deadLetters };
}

async function exercise(app: App, runs: JobContext[], deadLetters: DeadLetterInfo[]) {
  const key = `echo:${randomUUID()}`;
  await app.stores.db.transaction((tx) => enqueue(tx, { key, kind: 'echo', payload: { n: 1 } }));
  await expect.poll(() => runs.map((r) => r.job.key), { timeout: 15_000 }).toEqual([key]);
  expect(runs[0]).toMatchObject({ attempt: 1, clientToken: key, job: { payload: { n: 1 } } });

  const unknown = `nope:${randomUUID()}`;
  await app.stores.db.transaction((tx) => enqueue(tx, { key: unknown, kind: 'nope' }));
  await expect.poll(() => deadLetters.map((d) => d.job?.key), { timeout: 15_000 }).toEqual([unknown]);
  expect(deadLetters[0]!.reason).toMatch(/nope/);
  expect(runs).toHaveLength(1);
}

describe('the job path of a worker process', () => {
  it('runs a job enqueued through the outbox, once, on PostgreSQL and Redis Streams', async () => {
    const { app, runs, deadLetters } = await startWithEcho({
      role: 'all',
      nodeId: 'jobs-redis',
      databaseUrl: t.url,
      redisUrl: REDIS_URL,
      redisPrefix: redis.prefix,
    });
    try {
      expect(app.services).toEqual(
        expect.arrayContaining(['outbox-relay', 'job-worker', 'leader:outbox-sweeper', 'leader:node-reaper']),
      );
      await exercise(app, runs, deadLetters);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/stratus_job_duration_seconds_count\{[^}]*kind="echo"[^}]*\} 1/);
      expect(metrics).toMatch(/stratus_queue_depth\{[^}]*\} \d+/);
      expect(metrics).toMatch(/stratus_leader\{[^}]*key="outbox-sweeper"[^}]*\} 1/);
    } finally {
      await app.shutdown('test');
    }
  });

  it('runs a job on the embedded database with the PostgreSQL-table queue', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stratus-jobs-'));
    const { app, runs, deadLetters } = await startWithEcho({ role: 'all', nodeId: 'jobs-embedded', dataDir });
    try {
      await exercise(app, runs, deadLetters);
    } finally {
      await app.shutdown('test');
      rmSync(dataDir, { recursive: true, force: true });
    }
    // A first embedded start includes initdb: ~10 s, several times that on a loaded machine.
  }, 120_000);

  it('an api process runs no job services', async () => {
    const app = await startApp(config({ role: 'api', nodeId: 'jobs-api', databaseUrl: t.url }), {
      logger: quiet,
    });
    try {
      expect(app.jobs).toBeUndefined();
      expect(app.services).toEqual(['node-heartbeat']);
    } finally {
      await app.shutdown('test');
    }
  });
});
