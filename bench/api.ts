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
//   npm run bench:api [-- --quick]     # BENCH_API_COUNT=2000 for a shorter part 2
//
// The last line is one JSON object with every figure.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { REDIS_URL } from '../test/helpers/services.js';
import {
  isReady,
  ROOT,
  type StratusProcess,
  spawnCommand,
  spawnStratus,
} from '../test/helpers/stratus-process.js';

const quick = process.argv.includes('--quick');
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

/** How many instances labelled `run` are Ready, and how many Failed, paging through the list. */
async function readyCount(
  url: string,
  run: string,
): Promise<{ ready: number; failed: number; seen: number; why?: string }> {
  let ready = 0;
  let failed = 0;
  let why: string | undefined;
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await call<Page>(
      url,
      'GET',
      `/v1/instances?limit=500&labelSelector=run=${run}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    for (const item of page.items) {
      seen++;
      if (item.status.phase === 'Ready') ready++;
      else if (item.status.phase === 'Failed') {
        failed++;
        why ??= JSON.stringify(item.status.conditions?.find((c) => c.type === 'Ready'));
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return why === undefined ? { ready, failed, seen } : { ready, failed, seen, why };
}

/**
 * Creates COUNT instances through the API (CREATE_CONCURRENCY in flight, each with an
 * Idempotency-Key), then lists until every one is Ready. Resources per second from the first
 * request to the last Ready.
 */
async function endToEnd(url: string, what: string) {
  const run = `e2e${randomUUID().slice(0, 8)}`;
  const networks = await networksOf(url, run);
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
  let last: Awaited<ReturnType<typeof readyCount>> = { ready: 0, failed: 0, seen: 0 };
  const deadline = performance.now() + 600_000;
  while (last.ready < COUNT) {
    if (performance.now() > deadline)
      throw new Error(`${what}: only ${last.ready} of ${COUNT} Ready after 10 min`);
    if (last.failed > 0) throw new Error(`${what}: ${last.failed} instances Failed, e.g. ${last.why}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await readyCount(url, run);
  }
  const allS = (performance.now() - t0) / 1000;
  if (last.seen !== COUNT) throw new Error(`${what}: ${last.seen} instances listed, not ${COUNT}`);
  log(`${what}: all ${COUNT} Ready after ${allS.toFixed(1)} s`);
  return {
    createPerS: Math.round(COUNT / createdS),
    readyPerS: Math.round(COUNT / allS),
    seconds: round2(allS),
  };
}

async function highlyAvailable() {
  const db: TestDatabase = await createTestDatabase();
  const prefix = `stratus-bench-api:${randomUUID()}:`;
  const sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast']);
  const procs: StratusProcess[] = [sim];
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
    const api = spawnStratus(['start', '--role', 'api', '--port', '0'], { ...env, NODE_ID: 'bench-api' });
    procs.push(api);
    const url = await started(api, 'api');
    apiKey = await createKey(db.url);
    const workers = [1, 2].map((i) =>
      spawnStratus(['start', '--role', 'worker'], { ...env, NODE_ID: `bench-worker-${i}` }),
    );
    procs.push(...workers);
    await Promise.all(workers.map((w, i) => started(w, `worker ${i + 1}`)));
    return await endToEnd(url, 'PostgreSQL + Redis, 1 api + 2 workers');
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await db.drop();
  }
}

async function embedded() {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-api-'));
  const p = spawnStratus(['start', '--port', '0'], {
    STRATUS_DATA_DIR: dir,
    NODE_ID: 'bench-embedded',
    ...NO_RATE_LIMIT,
  });
  try {
    const url = await started(p, 'embedded');
    // The first start's admin key, where the README says it is.
    apiKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
    return await endToEnd(url, 'embedded (PGlite, one process)');
  } finally {
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const hot = await hotPath();
  console.log(
    `GET one resource: stratus ${hot.stratusGet.rps} req/s (p99 ${hot.stratusGet.p99} ms), bare Fastify + pg ${hot.bareGet.rps} req/s (p99 ${hot.bareGet.p99} ms): ${hot.getRatio}x (goal 0.7x)`,
  );
  console.log(
    `create with Idempotency-Key: stratus ${hot.stratusCreate.rps} req/s (p99 ${hot.stratusCreate.p99} ms), bare insert ${hot.bareCreate.rps} req/s (p99 ${hot.bareCreate.p99} ms): ${hot.createRatio}x (goal 0.5x)`,
  );
  const ha = await highlyAvailable();
  console.log(
    `${COUNT} instances, PostgreSQL + Redis, 1 api + 2 workers: all Ready in ${ha.seconds} s, ${ha.readyPerS} resources/s (creates accepted at ${ha.createPerS}/s; goal 1,000/s)`,
  );
  const emb = await embedded();
  console.log(
    `${COUNT} instances, embedded (PGlite, one process): all Ready in ${emb.seconds} s, ${emb.readyPerS} resources/s (creates accepted at ${emb.createPerS}/s)`,
  );
  console.log(
    JSON.stringify({
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
      e2e_instances: COUNT,
      e2e_ha_resources_per_s: ha.readyPerS,
      e2e_ha_seconds: ha.seconds,
      e2e_ha_creates_per_s: ha.createPerS,
      e2e_embedded_resources_per_s: emb.readyPerS,
      e2e_embedded_seconds: emb.seconds,
      e2e_embedded_creates_per_s: emb.createPerS,
      quick,
    }),
  );
}

await main();
