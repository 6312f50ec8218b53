// End-to-end job throughput and dispatch latency: Stratus on Redis Streams and on the Postgres
// queue (outbox -> relay -> queue -> worker with the ledger -> complete -> ack), against BullMQ
// and Graphile Worker running the same no-op jobs at the same concurrency, in one run on one
// machine, each on its own fresh database / Redis prefix. Then the time a SIGKILLed worker's
// jobs take to start again in other workers, with default settings (queue-resume.ts).
//
//   npm run bench:queue             # 3 rounds of 30,000 jobs per contender, then 24 kills
//   npm run bench:queue -- --quick  # 2 rounds of 6,000 jobs, then 6 kills
//   npm run bench:queue -- --resume # only the 24 kills (with --quick: 6)
//
// Contenders run in alternating order over the rounds (A B C D, then D C B A, ...) and each
// keeps its best round, so that load from other processes on the machine does not favour
// whoever happened to run in a quiet moment. The last line is one JSON object with every figure.
import { randomUUID } from 'node:crypto';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Logger as GraphileLogger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import { Redis } from 'ioredis';
import pg from 'pg';

import { migrate } from '../src/ha/db/migrate.js';
import { createPgDatabase } from '../src/ha/db/pg.js';
import { enqueueBatch } from '../src/ha/outbox/outbox.js';
import { createOutboxRelay } from '../src/ha/outbox/relay.js';
import type { Queue } from '../src/ha/queue/port.js';
import { createPostgresQueue } from '../src/ha/queue/postgres/postgres-queue.js';
import { createRedisStreamsQueue } from '../src/ha/queue/redis-streams/redis-streams-queue.js';
import { createRedis } from '../src/ha/redis/connection.js';
import { createWorker } from '../src/ha/worker/worker.js';
import { migrations } from '../src/migrations/index.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { REDIS_URL } from '../test/helpers/services.js';
import { type ResumeFigures, resumeAfterKill } from './queue-resume.js';

const quick = process.argv.includes('--quick');
const resumeOnly = process.argv.includes('--resume');
const CONCURRENCY = 50;
const JOBS = quick ? 6_000 : 30_000;
const ROUNDS = quick ? 2 : 3;
/** Jobs of the paced latency phase, one per transaction at about 500/s. */
const LATENCY_JOBS = quick ? 500 : 2_000;
/** SIGKILLs of the resume phase: at least 20 for a p99 over more than a handful of kills. */
const KILLS = quick ? 6 : 24;
const ENQUEUE_BATCH = 500;

const log = (line: string) => process.stderr.write(`${line}\n`);

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number) => Math.round(x);
const round2 = (x: number) => Math.round(x * 100) / 100;

async function freshDatabase() {
  const t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url, max: 10 });
  await migrate(db, migrations);
  return { t, db };
}

/** Stratus end to end: throughput of N no-op jobs, then paced dispatch latency. */
async function stratus(backend: 'redis' | 'pg'): Promise<{ jobsPerS: number; p50: number; p99: number }> {
  const { t, db } = await freshDatabase();
  const redis = backend === 'redis' ? createRedis({ url: REDIS_URL, onError: () => {} }) : undefined;
  const prefix = `stratus-bench:${randomUUID()}:`;
  const base: Queue = redis
    ? createRedisStreamsQueue({ redis, name: 'jobs', consumer: 'bench-1', prefix })
    : createPostgresQueue({ db, name: 'jobs', consumer: 'bench-1' });
  let acked = 0;
  let target = 0;
  let allAcked = deferred();
  // Counts acknowledgements: a job counts once it is completed in the ledger AND acked.
  const queue: Queue = {
    ...base,
    async ack(ids) {
      await base.ack(ids);
      acked += ids.length;
      if (acked >= target) allAcked.resolve();
    },
  };
  const started = new Map<string, number>();
  const worker = createWorker({
    queue,
    db,
    nodeId: 'bench-1',
    concurrency: CONCURRENCY,
    handlers: {
      noop: async ({ job }) => {
        started.set(job.key, performance.now());
      },
    },
  });
  const relay = createOutboxRelay({ db, queue });
  const controller = new AbortController();
  const running = Promise.all([worker.start(controller.signal), relay.start(controller.signal)]);

  target = JOBS;
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += ENQUEUE_BATCH) {
    const jobs = Array.from({ length: Math.min(ENQUEUE_BATCH, JOBS - i) }, (_, j) => ({
      key: `t-${i + j}`,
      kind: 'noop',
    }));
    await db.transaction((tx) => enqueueBatch(tx, jobs));
  }
  await allAcked.promise;
  const jobsPerS = JOBS / ((performance.now() - t0) / 1000);

  // Latency, paced well below capacity so that it measures dispatch, not a backlog.
  acked = 0;
  target = LATENCY_JOBS;
  allAcked = deferred();
  const committed = new Map<string, number>();
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const key = `l-${i}`;
    await db.transaction((tx) => enqueueBatch(tx, [{ key, kind: 'noop' }]));
    committed.set(key, performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
  await allAcked.promise;
  const latencies = [...committed].map(([k, c]) => Math.max(0, started.get(k)! - c)).sort((a, b) => a - b);

  controller.abort();
  await running;
  await base.close();
  redis?.disconnect();
  await db.close();
  await t.drop();
  return { jobsPerS, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function bullmq(): Promise<number> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `bullmq-bench-${randomUUID()}`;
  const queue = new BullQueue('bench', {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  let done = 0;
  const all = deferred();
  const worker = new BullWorker('bench', async () => {}, {
    connection: workerConnection,
    prefix,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', () => {
    if (++done === JOBS) all.resolve();
  });
  await worker.waitUntilReady();
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += ENQUEUE_BATCH) {
    await queue.addBulk(
      Array.from({ length: Math.min(ENQUEUE_BATCH, JOBS - i) }, (_, j) => ({
        name: 'noop',
        data: { i: i + j },
      })),
    );
  }
  await all.promise;
  const jobsPerS = JOBS / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return jobsPerS;
}

async function graphile(): Promise<number> {
  const t = await createTestDatabase();
  const logger = new GraphileLogger(() => () => {});
  let done = 0;
  const all = deferred();
  // Each of its concurrent workers takes a pooled connection to fetch a job.
  const pgPool = new pg.Pool({ connectionString: t.url, max: 20 });
  pgPool.on('error', () => {});
  pgPool.on('connect', (client) => client.on('error', () => {}));
  const runner = await runGraphile({
    pgPool,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger,
    taskList: { noop: async () => {} },
  });
  runner.events.on('job:success', () => {
    if (++done === JOBS) all.resolve();
  });
  const utils = await makeWorkerUtils({ pgPool, logger });
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += ENQUEUE_BATCH) {
    await utils.addJobs(
      Array.from({ length: Math.min(ENQUEUE_BATCH, JOBS - i) }, (_, j) => ({
        identifier: 'noop',
        payload: { i: i + j },
      })),
    );
  }
  await all.promise;
  const jobsPerS = JOBS / ((performance.now() - t0) / 1000);
  await runner.stop();
  await utils.release();
  await pgPool.end();
  await t.drop();
  return jobsPerS;
}

/** Resume figures for the JSON, in the same snake case as the rest. */
function resumeFields(r: ResumeFigures) {
  return {
    resume_kills: r.kills,
    resume_samples: r.samples,
    resume_p50_ms: r.p50Ms,
    resume_p99_ms: r.p99Ms,
    resume_max_ms: r.maxMs,
    resume_worst_per_kill_ms: r.worstPerKillMs,
    resume_spurious_takeovers: r.spuriousTakeovers,
    resume_not_resumed: r.notResumed,
    resume_max_event_loop_stall_ms: r.maxEventLoopStallMs,
    resume_jobs: r.jobs,
    resume_unfinished: r.unfinished,
  };
}

async function measureResume(): Promise<ResumeFigures> {
  log(`resume after SIGKILL (default settings): ${KILLS} kills`);
  const r = await resumeAfterKill(KILLS, log);
  log(
    `resume after SIGKILL: ${r.samples} jobs over ${r.kills} kills: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms; ` +
      `spurious takeovers ${r.spuriousTakeovers} (longest event-loop stall ${r.maxEventLoopStallMs} ms); not started again ${r.notResumed.length}; ${r.unfinished} of ${r.jobs} jobs unfinished`,
  );
  return r;
}

async function resumeMain(): Promise<void> {
  const started = performance.now();
  const r = await measureResume();
  const result = { quick, ...resumeFields(r), wall_s: round((performance.now() - started) / 10) / 100 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  log(
    `bench:queue${quick ? ' --quick' : ''}: ${ROUNDS} rounds of ${JOBS} no-op jobs, concurrency ${CONCURRENCY}`,
  );
  type Figures = { jobsPerS: number; p50?: number; p99?: number };
  const contenders: Record<string, () => Promise<Figures>> = {
    'stratus-redis': () => stratus('redis'),
    'stratus-pg': () => stratus('pg'),
    bullmq: async () => ({ jobsPerS: await bullmq() }),
    graphile: async () => ({ jobsPerS: await graphile() }),
  };
  const samples = new Map<string, Figures[]>(Object.keys(contenders).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = Object.keys(contenders);
    if (r % 2 === 1) order.reverse();
    for (const name of order) {
      const f = await contenders[name]!();
      samples.get(name)!.push(f);
      const lat = f.p50 === undefined ? '' : `, dispatch p50 ${round2(f.p50)} ms, p99 ${round2(f.p99!)} ms`;
      log(`round ${r + 1} ${name}: ${round(f.jobsPerS)} jobs/s${lat}`);
    }
  }
  const best = (name: string) => samples.get(name)!.reduce((a, b) => (b.jobsPerS > a.jobsPerS ? b : a));
  const sr = best('stratus-redis');
  const sp = best('stratus-pg');
  const bull = best('bullmq').jobsPerS;
  const gw = best('graphile').jobsPerS;
  const resume = await measureResume();
  const result = {
    quick,
    rounds: ROUNDS,
    jobs: JOBS,
    concurrency: CONCURRENCY,
    stratus_redis_jobs_per_s: round(sr.jobsPerS),
    stratus_pg_jobs_per_s: round(sp.jobsPerS),
    bullmq_jobs_per_s: round(bull),
    graphile_jobs_per_s: round(gw),
    stratus_redis_vs_bullmq: round2(sr.jobsPerS / bull),
    stratus_p50_ms: round2(sr.p50!),
    stratus_p99_ms: round2(sr.p99!),
    stratus_pg_p50_ms: round2(sp.p50!),
    stratus_pg_p99_ms: round2(sp.p99!),
    ...resumeFields(resume),
    samples_jobs_per_s: Object.fromEntries(
      [...samples].map(([k, v]) => [k, v.map((f) => round(f.jobsPerS))]),
    ),
    wall_s: round((performance.now() - started) / 10) / 100,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await (resumeOnly ? resumeMain() : main());
process.exit(0);
