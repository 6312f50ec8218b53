// Memory benchmark of one Stratus process: resident memory (RSS, from /proc) after start and
// after 1,000 jobs, on the embedded default (a fresh data directory: the first start, with its
// initdb) and as a replica on PostgreSQL and Redis. Each runs as its own child process from the
// compiled build (bench/memory-child.mjs: `stratus start` plus one no-op job kind). The jobs go
// through the outbox, relay, queue, ledger and worker like any other: on PostgreSQL the bench
// writes them into the shared database; embedded, the process writes them into its own outbox
// when asked (nothing else can reach its database).
// Goals: embedded < 350 MB from the first start; replica < 120 MB.
// Usage: npm run bench:memory [-- --jobs N]   The last line of output is one JSON object.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildIsStale } from '../scripts/build-state.mjs';
import { createPgDatabase } from '../src/ha/db/pg.js';
import { enqueueBatch } from '../src/ha/outbox/outbox.js';

const JOBS = Number(process.argv[process.argv.indexOf('--jobs') + 1]) || 1_000;
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHILD = new URL('./memory-child.mjs', import.meta.url).pathname;
const DEADLINE_MS = 180_000;

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
}

type Message = { type: string; [k: string]: unknown };

/** Resolves with the child's next message of `type`, or rejects at the deadline or on exit. */
function next(child: ChildProcess, type: string, timeoutMs = DEADLINE_MS): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${type} message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: Message) => m.type === type && done(undefined, m);
    const onExit = (code: number | null) => done(new Error(`child exited (${code}) before ${type}`));
    const done = (err?: Error, m?: Message) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      err ? reject(err) : resolve(m!);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

interface Figures {
  afterStartMb: number;
  afterJobsMb: number;
  /** Highest RSS sampled (every 100 ms) while the jobs ran. */
  peakMb: number;
  jobs: number;
  jobsSeconds: number;
}

async function measure(
  name: string,
  args: string[],
  env: Record<string, string>,
  enqueue: (child: ChildProcess, prefix: string) => Promise<void>,
  completed: (child: ChildProcess, prefix: string) => Promise<number>,
): Promise<Figures> {
  const child = fork(CHILD, ['--port', '0', '--log-level', 'warn', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    // Not this process's flags: under tsx they would load its TypeScript loader (~60 MB) too.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await next(child, 'ready');
    const afterStartMb = rssMb(child.pid!);
    const prefix = `bench-memory:${randomUUID()}:`;
    const started = performance.now();
    let peakMb = afterStartMb;
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, rssMb(child.pid!));
    }, 100);
    try {
      await enqueue(child, prefix);
      const deadline = performance.now() + DEADLINE_MS;
      for (;;) {
        const done = await completed(child, prefix);
        if (done >= JOBS) break;
        if (performance.now() > deadline)
          throw new Error(`${name}: ${done} of ${JOBS} jobs completed in time`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      clearInterval(sampler);
    }
    const jobsSeconds = Math.round((performance.now() - started) / 100) / 10;
    const figures = { afterStartMb, afterJobsMb: rssMb(child.pid!), peakMb, jobs: JOBS, jobsSeconds };
    console.log(`${name}: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const viaChild = {
  enqueue: async (child: ChildProcess, prefix: string) => {
    child.send({ type: 'enqueue', count: JOBS, prefix });
    await next(child, 'enqueued');
  },
  completed: async (child: ChildProcess, prefix: string) => {
    child.send({ type: 'count', prefix });
    return (await next(child, 'count')).n as number;
  },
};

if (buildIsStale()) {
  console.log('building (dist/ is missing or older than the sources)');
  const r = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-memory-'));
let embedded: Figures;
try {
  embedded = await measure(
    'embedded, first start',
    ['--data-dir', dataDir],
    {},
    viaChild.enqueue,
    viaChild.completed,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

const dbName = `stratus_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(PG_URL);
url.pathname = `/${dbName}`;
const shared = createPgDatabase({ connectionString: url.toString(), max: 2 });
let replica: Figures;
try {
  replica = await measure(
    'replica on PostgreSQL and Redis',
    ['--node-id', 'bench-replica'],
    { DATABASE_URL: url.toString(), REDIS_URL, REDIS_PREFIX: `${dbName}:` },
    async (_child, prefix) => {
      for (let i = 0; i < JOBS; i += 100) {
        const jobs = Array.from({ length: Math.min(100, JOBS - i) }, (_, k) => ({
          key: `${prefix}${i + k}`,
          kind: 'bench.noop',
          payload: { j: i + k },
        }));
        await shared.transaction((tx) => enqueueBatch(tx, jobs));
      }
    },
    async (_child, prefix) => {
      const res = await shared.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM stratus_ledger WHERE state = 'completed' AND job_key LIKE $1",
        [`${prefix}%`],
      );
      return res.rows[0]!.n;
    },
  );
} finally {
  await shared.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}

console.log(
  JSON.stringify({
    embedded,
    replica,
    goals: { embeddedMb: 350, replicaMb: 120 },
    met: {
      embedded: Math.max(embedded.afterStartMb, embedded.afterJobsMb) < 350,
      replica: Math.max(replica.afterStartMb, replica.afterJobsMb) < 120,
    },
  }),
);
