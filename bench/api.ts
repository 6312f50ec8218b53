// Resource API benchmark. Part 1: requests per second and p99 of GET one resource and of a
// create with an Idempotency-Key (resource + operation + outbox row + idempotency record in one
// transaction), served by a `stratus start --role api` process on PostgreSQL, against a bare
// Fastify + pg handler doing the same single-row read and insert (its own child process, same
// database server, same pool size), driven by autocannon at fixed concurrency, interleaved over
// several rounds. Part 2: instances created through the API with zero simulated latency, and the
// time until every one is Ready, in resources/s: on PostgreSQL + Redis with one api and two
// worker processes against one `stratus sim --profile fast`, and on the embedded default
// (one process, PGlite, in-process cloud).
//
//   npm run bench:api [-- --quick] [-- --part hot|e2e|embedded]   # default: every part
//   BENCH_API_COUNT=3000 npx tsx bench/api.ts --quick --part e2e  # a shorter part 2
//
// Part 2 also reports the CPU seconds each process spent from the first create to the last
// Ready (utime + stime of /proc/<pid>/stat): the api, the workers, the simulator, every
// PostgreSQL backend of the bench database (pids from pg_stat_activity) and the bench itself.
// The last line is one JSON object with every figure.

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { PG_URL, REDIS_URL } from '../test/helpers/services.js';
import {
  isReady,
  ROOT,
  type StratusProcess,
  spawnCommand,
  spawnStratus,
} from '../test/helpers/stratus-process.js';

const quick = process.argv.includes('--quick');
const PARTS = ['hot', 'e2e', 'embedded'] as const;
type Part = (typeof PARTS)[number];
const partArg = process.argv.indexOf('--part');
const part = partArg >= 0 ? process.argv[partArg + 1] : undefined;
if (part !== undefined && !PARTS.includes(part as Part))
  throw new Error(`--part takes one of ${PARTS.join(', ')}, not ${String(part)}`);
const runs = (p: Part) => part === undefined || part === p;
const SECONDS = quick ? 2 : 5;
const ROUNDS = quick ? 2 : 3;
/** Connections autocannon keeps open (and requests in flight). */
const CONCURRENCY = 32;
/** Connections of each server's pg pool: the Stratus default. */
const POOL = 10;
const COUNT = Number(process.env.BENCH_API_COUNT ?? (quick ? 2_000 : 10_000));
const NETWORKS = 4;
/** Requests in flight while creating the instances of part 2. */
const CREATE_CONCURRENCY = 32;

const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The headers of every request the benchmark sends to a Stratus API. The one place to add a
 * credential once requests carry one.
 */
/** The API key of the control plane under test (every `/v1` route needs one). */
let apiKey: string | undefined;

function requestHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    ...extra,
  };
}

/** An admin key of tenant local, made against the database as an operator would. */
async function createKey(databaseUrl: string): Promise<string> {
  const p = spawnStratus(['admin', 'create-key', '--tenant', 'local', '--role', 'admin', '--name', 'bench'], {
    DATABASE_URL: databaseUrl,
  });
  const exit = await p.exited;
  const key = p.logs
    .map((l) => l.raw)
    .find((line) => typeof line === 'string' && line.startsWith('stratus_'));
  if (exit.code !== 0 || typeof key !== 'string') throw new Error(`create-key failed: ${p.stderr.join('')}`);
  return key as string;
}

/**
 * BENCH_API_WORKER_ENV='WORKER_CONCURRENCY=20 JOB_HEARTBEAT_MS=1000': settings of the worker
 * processes of part 2, to compare defaults without editing them.
 */
const WORKER_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_API_WORKER_ENV ?? '')
    .split(/\s+/)
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

/** BENCH_API_PROFILE=<dir>: the processes of part 2 write CPU profiles there (node --cpu-prof). */
const PROFILE_DIR = process.env.BENCH_API_PROFILE;

/** `stratus <args>`, under the profiler when BENCH_API_PROFILE names a directory. */
function spawnMeasured(args: string[], env: Record<string, string>): StratusProcess {
  if (PROFILE_DIR === undefined) return spawnStratus(args, env);
  const main = join(ROOT, 'src', 'cli', 'main.ts');
  return spawnCommand(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, '--import', 'tsx', main, ...args],
    env,
  );
}

/** One key measures the API, not its rate limit: the limit is off in the processes under test. */
const NO_RATE_LIMIT = { RATE_LIMIT_MAX: '0' };

// ---------------------------------------------------------------------------------------------
// Servers

/** A comparable row: the columns of stratus_resources, the same unique name per tenant and kind. */
const BARE_TABLE = `
CREATE TABLE bare_resources (
  id text PRIMARY KEY,
  tenant text NOT NULL,
  kind text NOT NULL,
  name text NOT NULL,
  labels jsonb NOT NULL,
  spec jsonb NOT NULL,
  status jsonb NOT NULL,
  generation bigint NOT NULL,
  resource_version bigserial NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant, kind, name)
)`;

// The same single-row read and insert, with nothing around them.
const BARE = `
const app = require('fastify')({ logger: false });
const pg = require('pg');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: ${POOL} });
const COLS = 'id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at';
let n = 0;
app.get('/r/:id', async (request, reply) => {
  const res = await pool.query('SELECT ' + COLS + ' FROM bare_resources WHERE id = $1', [request.params.id]);
  if (!res.rows[0]) return reply.code(404).send({ title: 'not found' });
  return res.rows[0];
});
app.post('/r', async (request, reply) => {
  const b = request.body;
  const res = await pool.query(
    'INSERT INTO bare_resources (id, tenant, kind, name, labels, spec, status, generation) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, 1) RETURNING ' + COLS,
    ['r' + process.pid + '_' + (++n).toString(36), 'local', 'instances', b.name, JSON.stringify(b.labels ?? {}), JSON.stringify(b.spec), JSON.stringify({ phase: 'Provisioning', conditions: [] })],
  );
  return reply.code(202).send(res.rows[0]);
});
app.listen({ host: '127.0.0.1', port: 0 }).then((url) => console.log(JSON.stringify({ url, msg: 'stratus ready: bare' })));
`;

async function started(p: StratusProcess, what: string): Promise<string> {
  const ready = await p.waitForLog(isReady, 120_000).catch((err: Error) => {
    throw new Error(`${what} did not start: ${err.message}`);
  });
  return ready.url as string;
}

async function stop(p: StratusProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

async function call<T = Accepted>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: requestHeaders(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The parts of the API's answers the benchmark reads. */
interface Accepted {
  resource: { id: string };
}
interface Listed {
  id: string;
  status: { phase: string; conditions?: Array<{ type: string; reason: string; message: string }> };
}
interface Page {
  items: Listed[];
  nextCursor?: string;
}

// ---------------------------------------------------------------------------------------------
// Part 1: the hot path against a bare handler

interface Shot {
  rps: number;
  p99: number;
}

async function cannon(opts: autocannon.Options, what: string): Promise<Shot> {
  const result = await autocannon({ connections: CONCURRENCY, duration: SECONDS, ...opts });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(
      `${what}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return { rps: result.requests.average, p99: result.latency.p99 };
}

function getShot(url: string, path: string, what: string): () => Promise<Shot> {
  return () => cannon({ url, requests: [{ method: 'GET', path, headers: requestHeaders() }] }, what);
}

function createShot(url: string, path: string, network: string, what: string): () => Promise<Shot> {
  let round = 0;
  return () => {
    const run = `${what.replace(/[^a-z]/g, '')}${round++}-${randomUUID().slice(0, 8)}`;
    let n = 0;
    return cannon(
      {
        url,
        requests: [
          {
            method: 'POST',
            path,
            setupRequest: (request) => {
              const i = n++;
              return {
                ...request,
                headers: requestHeaders({ 'idempotency-key': `${run}-${i}` }),
                body: JSON.stringify({
                  name: `${run}-${i}`,
                  labels: { bench: 'api', shard: String(i % 16) },
                  spec: { image: 'ubuntu-24.04', size: 'small', network },
                }),
              };
            },
          },
        ],
      },
      what,
    );
  };
}

async function hotPath() {
  const stratusDb = await createTestDatabase();
  const bareDb = await createTestDatabase();
  const api = spawnStratus(['start', '--role', 'api', '--port', '0'], {
    DATABASE_URL: stratusDb.url,
    NODE_ID: 'bench-api',
    ...NO_RATE_LIMIT,
  });
  const bare = spawnCommand(process.execPath, ['-e', BARE], { DATABASE_URL: bareDb.url }, ROOT);
  try {
    const admin = new pg.Client({ connectionString: bareDb.url });
    await admin.connect();
    await admin.query(BARE_TABLE);
    const seeded = await admin.query<{ id: string }>(
      `INSERT INTO bare_resources (id, tenant, kind, name, labels, spec, status, generation)
       VALUES ('seed', 'local', 'instances', 'seed', '{}', $1::jsonb, $2::jsonb, 1) RETURNING id`,
      [
        JSON.stringify({ image: 'ubuntu-24.04', size: 'small', network: 'net_x' }),
        JSON.stringify({ phase: 'Provisioning', conditions: [] }),
      ],
    );
    await admin.end();
    const [apiUrl, bareUrl] = await Promise.all([started(api, 'stratus api'), started(bare, 'bare')]);
    apiKey = await createKey(stratusDb.url);
    const network = await call(apiUrl, 'POST', '/v1/networks', {
      name: 'bench',
      spec: { cidr: '10.0.0.0/16' },
    });
    const seed = await call(apiUrl, 'POST', '/v1/instances', {
      name: 'seed',
      spec: { image: 'ubuntu-24.04', size: 'small', network: network.resource.id },
    });
    const contenders = {
      bareGet: getShot(bareUrl, `/r/${seeded.rows[0]!.id}`, 'bare get'),
      stratusGet: getShot(apiUrl, `/v1/instances/${seed.resource.id}`, 'stratus get'),
      bareCreate: createShot(bareUrl, '/r', network.resource.id, 'bare create'),
      stratusCreate: createShot(apiUrl, '/v1/instances', network.resource.id, 'stratus create'),
    };
    type Name = keyof typeof contenders;
    const names = Object.keys(contenders) as Name[];
    // Warm-up: JIT, pools, the planner's caches.
    for (const name of names) await contenders[name]();
    const shots = Object.fromEntries(names.map((n) => [n, [] as Shot[]])) as Record<Name, Shot[]>;
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of r % 2 ? [...names].reverse() : names) {
        const shot = await contenders[name]();
        shots[name].push(shot);
        log(`round ${r + 1} ${name}: ${Math.round(shot.rps)} req/s, p99 ${shot.p99} ms`);
      }
    }
    const fig = (name: Name) => ({
      rps: Math.round(median(shots[name].map((s) => s.rps))),
      p99: median(shots[name].map((s) => s.p99)),
    });
    const ratio = (a: Name, b: Name) => round2(median(shots[a].map((s, i) => s.rps / shots[b][i]!.rps)));
    return {
      bareGet: fig('bareGet'),
      stratusGet: fig('stratusGet'),
      bareCreate: fig('bareCreate'),
      stratusCreate: fig('stratusCreate'),
      getRatio: ratio('stratusGet', 'bareGet'),
      createRatio: ratio('stratusCreate', 'bareCreate'),
    };
  } finally {
    await Promise.all([stop(api), stop(bare)]);
    await Promise.all([stratusDb.drop(), bareDb.drop()]);
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: end to end

/** Creates NETWORKS networks and waits until they are Ready. */
async function networksOf(url: string, run: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < NETWORKS; i++) {
    const a = await call(url, 'POST', '/v1/networks', {
      name: `${run}-net-${i}`,
      spec: { cidr: `10.${i}.0.0/16` },
    });
    ids.push(a.resource.id);
  }
  for (const id of ids) {
    const r = await call<Listed>(url, 'GET', `/v1/networks/${id}?wait=50s`);
    if (r.status.phase !== 'Ready') throw new Error(`network ${id} is ${r.status.phase}`);
  }
  return ids;
}

/** What one look at the instances of a run found. */
interface Tally {
  ready: number;
  failed: number;
  seen: number;
  why?: string;
}

/**
 * Counts the instances labelled `run` that are Ready, and those Failed, paging through the
 * list in id order. Ids grow with creation time and an instance of this benchmark never leaves
 * Ready, so a run of whole pages all Ready at the start stays so: `prefix` remembers where it
 * ends and the next look starts there: listing all 10,000 five times a second would be load of
 * its own on the api and PostgreSQL, counted in the figures.
 */
async function readyCount(
  url: string,
  run: string,
  prefix: { cursor?: string; ready: number },
): Promise<Tally> {
  const tally: Tally = { ready: prefix.ready, failed: 0, seen: prefix.ready };
  let cursor = prefix.cursor;
  let stable = true;
  do {
    const page = await call<Page>(
      url,
      'GET',
      `/v1/instances?limit=500&labelSelector=run=${run}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    let pageReady = 0;
    for (const item of page.items) {
      tally.seen++;
      if (item.status.phase === 'Ready') pageReady++;
      else if (item.status.phase === 'Failed') {
        tally.failed++;
        tally.why ??= JSON.stringify(item.status.conditions?.find((c) => c.type === 'Ready'));
      }
    }
    tally.ready += pageReady;
    stable &&= pageReady === page.items.length && page.nextCursor !== undefined;
    if (stable) {
      prefix.cursor = page.nextCursor;
      prefix.ready += pageReady;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return tally;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system, every thread) a process has spent; undefined once it is gone. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** What the bench database counted over a run. */
interface DatabaseStats {
  readonly commits: number;
  readonly rows: number;
  /** Rows inserted, updated or deleted per table. */
  readonly byTable: Readonly<Record<string, number>>;
}

/**
 * The commits and rows inserted, updated or deleted in a database over its whole life
 * (pg_stat_database), read once every process using it has ended: a backend reports its
 * counters when it goes idle, at most once a second, and at its exit. The migrations, the key
 * and the networks are in it too: a few hundred rows.
 */
async function databaseStats({ name, url }: TestDatabase): Promise<DatabaseStats> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const res = await admin.query<{ commits: string; rows: string }>(
      `SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS rows
       FROM pg_stat_database WHERE datname = $1`,
      [name],
    );
    // Only the database's own sessions see its tables' counters: one more short connection.
    const own = new pg.Client({ connectionString: url });
    await own.connect();
    const tables = await own
      .query<{ relname: string; n: string }>(
        `SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables
         WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY 2 DESC`,
      )
      .finally(() => own.end());
    return {
      commits: Number(res.rows[0]?.commits ?? 0),
      rows: Number(res.rows[0]?.rows ?? 0),
      byTable: Object.fromEntries(tables.rows.map((r) => [r.relname, Number(r.n)])),
    };
  } finally {
    await admin.end();
  }
}

/** CPU seconds per process group over a run, from the first create to the last Ready. */
type CpuFigures = Record<string, number>;

/**
 * Samples the CPU time of named child processes and of every PostgreSQL backend of one
 * database. A backend first seen after `start` was born during the run and counts from zero;
 * one that ends between two samples loses what it spent since the last (the pools keep their
 * connections, so few do).
 */
class CpuMeter {
  readonly #groups = new Map<string, number[]>();
  readonly #from = new Map<number, number>();
  readonly #last = new Map<number, number>();
  readonly #backends = new Set<number>();
  #admin: pg.Client | undefined;
  #startedAt: NodeJS.CpuUsage | undefined;
  #started = false;

  constructor(private readonly database?: string) {}

  /** Counts `pids` under `group` (several groups may share a name: their sum is reported). */
  track(group: string, ...pids: Array<number | undefined>): void {
    const list = this.#groups.get(group) ?? [];
    for (const pid of pids) if (pid !== undefined) list.push(pid);
    this.#groups.set(group, list);
  }

  async start(): Promise<void> {
    if (this.database) {
      this.#admin = new pg.Client({ connectionString: PG_URL });
      await this.#admin.connect();
    }
    await this.sample();
    for (const [pid, cpu] of this.#last) this.#from.set(pid, cpu);
    this.#startedAt = process.cpuUsage();
    this.#started = true;
  }

  async sample(): Promise<void> {
    if (this.#admin) {
      const res = await this.#admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1',
        [this.database],
      );
      for (const { pid } of res.rows) this.#backends.add(pid);
    }
    for (const pid of [...this.#backends, ...[...this.#groups.values()].flat()]) {
      const cpu = cpuSecondsOf(pid);
      if (cpu === undefined) continue;
      if (!this.#started && !this.#from.has(pid)) this.#from.set(pid, cpu);
      this.#last.set(pid, cpu);
    }
  }

  /** The last sample, then the figures: each group, `postgres`, `bench` and `total`. */
  async stop(): Promise<CpuFigures> {
    await this.sample();
    await this.dispose();
    const spent = (pid: number) => (this.#last.get(pid) ?? 0) - (this.#from.get(pid) ?? 0);
    const figures: CpuFigures = {};
    for (const [group, pids] of this.#groups) figures[group] = round2(pids.reduce((a, p) => a + spent(p), 0));
    if (this.database) figures.postgres = round2([...this.#backends].reduce((a, p) => a + spent(p), 0));
    const own = process.cpuUsage(this.#startedAt);
    figures.bench = round2((own.user + own.system) / 1e6);
    figures.total = round2(Object.values(figures).reduce((a, b) => a + b, 0));
    return figures;
  }

  /** Closes the connection the backends are found through (also after a failed run). */
  async dispose(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.end();
  }
}

const describeCpu = (cpu: CpuFigures, count: number) =>
  `CPU s ${Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}; ${round2((cpu.total! * 1000) / count)} ms per resource`;

/**
 * Creates COUNT instances through the API (CREATE_CONCURRENCY in flight, each with an
 * Idempotency-Key), then lists until every one is Ready. Resources per second from the first
 * request to the last Ready, and the CPU every process spent meanwhile.
 */
async function endToEnd(url: string, what: string, meter: CpuMeter) {
  const run = `e2e${randomUUID().slice(0, 8)}`;
  const networks = await networksOf(url, run);
  await meter.start();
  const sampling = setInterval(() => void meter.sample().catch(() => undefined), 250);
  try {
    const t0 = performance.now();
    let n = 0;
    const result = await autocannon({
      url,
      connections: CREATE_CONCURRENCY,
      amount: COUNT,
      timeout: 60,
      requests: [
        {
          method: 'POST',
          path: '/v1/instances',
          setupRequest: (request) => {
            const i = n++;
            return {
              ...request,
              headers: requestHeaders({ 'idempotency-key': `${run}-${i}` }),
              body: JSON.stringify({
                name: `${run}-${i}`,
                labels: { run },
                spec: { image: 'ubuntu-24.04', size: 'small', network: networks[i % NETWORKS] },
              }),
            };
          },
        },
      ],
    });
    const createdS = (performance.now() - t0) / 1000;
    if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
      throw new Error(
        `${what}: ${result.non2xx} non-2xx creates, ${result.errors} errors, ${result.timeouts} timeouts`,
      );
    log(`${what}: ${COUNT} creates accepted in ${createdS.toFixed(1)} s`);
    const prefix: { cursor?: string; ready: number } = { ready: 0 };
    let last: Tally = { ready: 0, failed: 0, seen: 0 };
    const deadline = performance.now() + 600_000;
    while (last.ready < COUNT) {
      if (performance.now() > deadline)
        throw new Error(`${what}: only ${last.ready} of ${COUNT} Ready after 10 min`);
      if (last.failed > 0) throw new Error(`${what}: ${last.failed} instances Failed, e.g. ${last.why}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      last = await readyCount(url, run, prefix);
    }
    const allS = (performance.now() - t0) / 1000;
    clearInterval(sampling);
    const cpu = await meter.stop();
    // Once more from the start, outside the timing: every instance listed, every one Ready.
    const full = await readyCount(url, run, { ready: 0 });
    if (full.seen !== COUNT || full.ready !== COUNT)
      throw new Error(`${what}: ${full.seen} instances listed and ${full.ready} Ready, not ${COUNT}`);
    log(`${what}: all ${COUNT} Ready after ${allS.toFixed(1)} s; ${describeCpu(cpu, COUNT)}`);
    return {
      createPerS: Math.round(COUNT / createdS),
      readyPerS: Math.round(COUNT / allS),
      seconds: round2(allS),
      cpu,
      cpuMsPerResource: round2((cpu.total! * 1000) / COUNT),
    };
  } finally {
    clearInterval(sampling);
    await meter.dispose();
  }
}

/** Counts of the warnings and errors the processes logged, by message: retries show up here. */
function logWarnings(procs: readonly StratusProcess[]): void {
  const counts = new Map<string, number>();
  for (const p of procs)
    for (const r of p.logs)
      if (typeof r.level === 'number' && r.level >= 40) {
        const err = r.err as { message?: string } | undefined;
        const key = `${String(r.msg)}${err?.message ? `: ${err.message.slice(0, 80)}` : ''}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
  for (const [msg, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8)) log(`  logged ${n}x: ${msg}`);
}

async function highlyAvailable() {
  const db: TestDatabase = await createTestDatabase();
  const prefix = `stratus-bench-api:${randomUUID()}:`;
  const sim = spawnMeasured(['sim', '--port', '0', '--profile', 'fast'], {});
  const procs: StratusProcess[] = [sim];
  let result: Awaited<ReturnType<typeof endToEnd>> | undefined;
  let stats: DatabaseStats | undefined;
  try {
    const cloudUrl = (await sim.waitForLog((r) => typeof r.url === 'string', 60_000)).url as string;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      CLOUD_URL: cloudUrl,
      ...NO_RATE_LIMIT,
    };
    // Migrations first, by the api alone, then the workers.
    const api = spawnMeasured(['start', '--role', 'api', '--port', '0'], { ...env, NODE_ID: 'bench-api' });
    procs.push(api);
    const url = await started(api, 'api');
    apiKey = await createKey(db.url);
    const workers = [1, 2].map((i) =>
      spawnMeasured(['start', '--role', 'worker'], { ...env, ...WORKER_ENV, NODE_ID: `bench-worker-${i}` }),
    );
    procs.push(...workers);
    await Promise.all(workers.map((w, i) => started(w, `worker ${i + 1}`)));
    const meter = new CpuMeter(db.name);
    meter.track('api', api.child.pid);
    meter.track('workers', ...workers.map((w) => w.child.pid));
    meter.track('sim', sim.child.pid);
    result = await endToEnd(url, 'PostgreSQL + Redis, 1 api + 2 workers', meter);
    logWarnings(workers);
  } finally {
    for (const p of procs.reverse()) await stop(p);
    if (result) stats = await databaseStats(db);
    await db.drop();
  }
  const per = (n: number) => round2(n / COUNT);
  const database = { commitsPerResource: per(stats!.commits), rowsPerResource: per(stats!.rows) };
  log(
    `database: ${database.commitsPerResource} commits and ${database.rowsPerResource} rows written per resource (${Object.entries(
      stats!.byTable,
    )
      .map(([table, n]) => `${table.replace(/^stratus_/, '')} ${per(n)}`)
      .join(', ')})`,
  );
  return { ...result!, database };
}

async function embedded() {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-api-'));
  const p = spawnMeasured(['start', '--port', '0'], {
    STRATUS_DATA_DIR: dir,
    NODE_ID: 'bench-embedded',
    ...NO_RATE_LIMIT,
  });
  try {
    const url = await started(p, 'embedded');
    // The first start's admin key, where the README says it is.
    apiKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
    const meter = new CpuMeter();
    meter.track('embedded', p.child.pid);
    return await endToEnd(url, 'embedded (PGlite, one process)', meter);
  } finally {
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const figures: Record<string, unknown> = {};
  if (runs('hot')) {
    const hot = await hotPath();
    console.log(
      `GET one resource: stratus ${hot.stratusGet.rps} req/s (p99 ${hot.stratusGet.p99} ms), bare Fastify + pg ${hot.bareGet.rps} req/s (p99 ${hot.bareGet.p99} ms): ${hot.getRatio}x (goal 0.7x)`,
    );
    console.log(
      `create with Idempotency-Key: stratus ${hot.stratusCreate.rps} req/s (p99 ${hot.stratusCreate.p99} ms), bare insert ${hot.bareCreate.rps} req/s (p99 ${hot.bareCreate.p99} ms): ${hot.createRatio}x (goal 0.5x)`,
    );
    Object.assign(figures, {
      concurrency: CONCURRENCY,
      pool: POOL,
      seconds_per_shot: SECONDS,
      rounds: ROUNDS,
      get_rps: hot.stratusGet.rps,
      get_p99_ms: hot.stratusGet.p99,
      bare_get_rps: hot.bareGet.rps,
      bare_get_p99_ms: hot.bareGet.p99,
      get_vs_bare: hot.getRatio,
      create_rps: hot.stratusCreate.rps,
      create_p99_ms: hot.stratusCreate.p99,
      bare_insert_rps: hot.bareCreate.rps,
      bare_insert_p99_ms: hot.bareCreate.p99,
      create_vs_bare: hot.createRatio,
    });
  }
  if (runs('e2e') || runs('embedded')) figures.e2e_instances = COUNT;
  if (runs('e2e')) {
    const ha = await highlyAvailable();
    console.log(
      `${COUNT} instances, PostgreSQL + Redis, 1 api + 2 workers: all Ready in ${ha.seconds} s, ${ha.readyPerS} resources/s (creates accepted at ${ha.createPerS}/s; goal 1,000/s); ${describeCpu(ha.cpu, COUNT)}; ${ha.database.commitsPerResource} commits and ${ha.database.rowsPerResource} rows written per resource`,
    );
    Object.assign(figures, {
      e2e_ha_resources_per_s: ha.readyPerS,
      e2e_ha_seconds: ha.seconds,
      e2e_ha_creates_per_s: ha.createPerS,
      e2e_ha_cpu_s: ha.cpu,
      e2e_ha_cpu_ms_per_resource: ha.cpuMsPerResource,
      e2e_ha_commits_per_resource: ha.database.commitsPerResource,
      e2e_ha_rows_written_per_resource: ha.database.rowsPerResource,
    });
  }
  if (runs('embedded')) {
    const emb = await embedded();
    console.log(
      `${COUNT} instances, embedded (PGlite, one process): all Ready in ${emb.seconds} s, ${emb.readyPerS} resources/s (creates accepted at ${emb.createPerS}/s); ${describeCpu(emb.cpu, COUNT)}`,
    );
    Object.assign(figures, {
      e2e_embedded_resources_per_s: emb.readyPerS,
      e2e_embedded_seconds: emb.seconds,
      e2e_embedded_creates_per_s: emb.createPerS,
      e2e_embedded_cpu_s: emb.cpu,
      e2e_embedded_cpu_ms_per_resource: emb.cpuMsPerResource,
    });
  }
  console.log(JSON.stringify({ ...figures, part: part ?? 'all', quick }));
}

await main();
