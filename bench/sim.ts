// Simulator benchmark: the in-process cost of a destructive call; destructive calls per
// second served by one `stratus sim` over loopback HTTP (audit on), driven by autocannon
// (what the server can take) and through the HTTP adapter (what one Node client gets),
// each against a bare Fastify handler returning the same JSON in the same run; and the
// resident memory of one `stratus sim` holding 100,000 instances.
//
//   npm run bench:sim [-- --quick]
//
// The last line is one JSON object with every figure.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createHttpBackends } from '../src/backends/http/index.js';
import { createBackends } from '../src/backends/index.js';
import { createSimBackends } from '../src/sim/index.js';

const quick = process.argv.includes('--quick');
const IN_PROCESS_CALLS = quick ? 20_000 : 100_000;
const HTTP_SECONDS = quick ? 3 : 8;
const CONCURRENCY = 64;
const INSTANCES = quick ? 20_000 : 100_000;
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** A child process that prints a JSON line with its `url` when it listens. */
function startChild(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        try {
          const record = JSON.parse(line) as { url?: string };
          if (typeof record.url === 'string') resolve({ child, url: record.url });
        } catch {}
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

// The same answer a createVolume gives, from a handler that does nothing else.
const BARE = `
const app = require('fastify')({ logger: false });
let n = 0;
app.post('/v1/storage/createVolume', async (request) => ({
  result: { ...request.body.spec, id: 'vol-' + (++n).toString(36), createdAt: Date.now() },
}));
app.listen({ host: '127.0.0.1', port: 0 }).then((url) => console.log(JSON.stringify({ url })));
`;

/**
 * Destructive calls per second `url` serves to autocannon (`CONCURRENCY` connections), each
 * with a client token of its own so that every call is a new effect, not a replay. A client of
 * its own: Node's fetch in this process tops out below what either server can take.
 */
async function serverRate(url: string, seconds: number, run: string): Promise<number> {
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONCURRENCY,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/storage/createVolume',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          n++;
          return {
            ...request,
            body: JSON.stringify({
              spec: { name: `${run}-${n}`, sizeGiB: 10 },
              options: { clientToken: `${run}-${n}`, fencingToken: 1 },
            }),
          };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return Math.round(result.requests.average);
}

/** Runs `call` from `CONCURRENCY` loops for `seconds`; calls per second. */
async function throughput(seconds: number, call: (n: number) => Promise<unknown>): Promise<number> {
  const until = performance.now() + seconds * 1_000;
  let done = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await call(next++);
        done++;
      }
    }),
  );
  return Math.round(done / seconds);
}

const ADMIN_TOKEN = 'bench-admin-token-0123456789';

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(0.99 * (sorted.length - 1))]! * 100) / 100;
}

/**
 * G6 through a replica: a fault rule hangs every compute call; how long until the compute
 * breaker opens (200 ms create timeouts, five consecutive failures), and the network
 * latency before and during the fault.
 */
async function isolation(url: string) {
  const backends = createBackends({
    cloudUrl: url,
    compute: { operations: { createInstance: { timeoutMs: 200 } } },
  });
  const network = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await backends.network.listNetworks();
      out.push(performance.now() - t0);
    }
    return out;
  };
  const before = await network(200);
  const added = await fetch(`${url}/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ backend: 'compute', effect: { kind: 'hang' } }),
  });
  if (added.status !== 201) throw new Error(`adding the fault rule answered ${added.status}`);
  const t0 = performance.now();
  const during: number[] = [];
  let openAfterMs = -1;
  for (let i = 0; openAfterMs < 0 && i < 20; i++) {
    const call = backends.compute.createInstance(
      { name: 'g6', image: 'u', size: 'small' },
      { clientToken: `g6-${i}` },
    );
    during.push(...(await network(10)));
    await call.catch(() => {});
    if (backends.health().compute.breaker.state === 'open') openAfterMs = Math.round(performance.now() - t0);
  }
  await fetch(`${url}/faults`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { openAfterMs, beforeP99: p99(before), duringP99: p99(during) };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function inProcess(): Promise<{ createNs: number; getNs: number }> {
  const sim = createSimBackends();
  const { id } = await sim.compute.createInstance(
    { name: 'w', image: 'u', size: 'small' },
    { clientToken: 'w' },
  );
  let t0 = performance.now();
  for (let i = 0; i < IN_PROCESS_CALLS; i++) {
    await sim.storage.createVolume({ name: `v${i}`, sizeGiB: 10 }, { clientToken: `v${i}`, fencingToken: 1 });
  }
  const createNs = Math.round(((performance.now() - t0) * 1e6) / IN_PROCESS_CALLS);
  t0 = performance.now();
  for (let i = 0; i < IN_PROCESS_CALLS; i++) await sim.compute.getInstance(id);
  const getNs = Math.round(((performance.now() - t0) * 1e6) / IN_PROCESS_CALLS);
  return { createNs, getNs };
}

async function main(): Promise<void> {
  const local = await inProcess();
  console.log(`in process: createVolume ${local.createNs} ns, getInstance ${local.getNs} ns`);

  const bare = await startChild(['-e', BARE]);
  const sim = await startChild([
    '--import',
    'tsx',
    MAIN,
    'sim',
    '--port',
    '0',
    '--profile',
    'fast',
    '--admin-token',
    ADMIN_TOKEN,
  ]);
  try {
    const ports = createHttpBackends({ url: sim.url, caller: 'bench' });
    const bareCall = (n: number) =>
      fetch(`${bare.url}/v1/storage/createVolume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ spec: { name: `v${n}`, sizeGiB: 10 }, options: { clientToken: `v${n}` } }),
      }).then((r) => r.json());
    const simCall = (n: number) =>
      ports.storage.createVolume({ name: `v${n}`, sizeGiB: 10 }, { clientToken: `v${n}`, fencingToken: 1 });
    // Warm both (JIT, connection pools), then alternate so that machine load hits both alike.
    await throughput(1, bareCall);
    await throughput(1, simCall);
    const bareRates: number[] = [];
    const simRates: number[] = [];
    for (let round = 0; round < 2; round++) {
      bareRates.push(await throughput(HTTP_SECONDS / 2, bareCall));
      simRates.push(await throughput(HTTP_SECONDS / 2, (n) => simCall(n + 1_000_000 * (round + 1))));
    }
    const adapterBareRate = Math.max(...bareRates);
    const adapterSimRate = Math.max(...simRates);
    console.log(
      `through the adapter (fetch), ${CONCURRENCY} in flight: stratus sim ${adapterSimRate} destructive calls/s, bare Fastify ${adapterBareRate}/s`,
    );
    const serverBare: number[] = [];
    const serverSim: number[] = [];
    for (let round = 0; round < 2; round++) {
      serverBare.push(await serverRate(bare.url, HTTP_SECONDS / 2, `bare${round}`));
      serverSim.push(await serverRate(sim.url, HTTP_SECONDS / 2, `ac${round}`));
    }
    const bareRate = Math.max(...serverBare);
    const simRate = Math.max(...serverSim);
    console.log(
      `autocannon, ${CONCURRENCY} connections: stratus sim ${simRate} destructive calls/s, bare Fastify ${bareRate}/s (rounds ${serverSim.join(', ')} / ${serverBare.join(', ')})`,
    );

    const t0 = performance.now();
    let created = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (created < INSTANCES) {
          const n = created++;
          await ports.compute.createInstance(
            {
              name: `i${n}`,
              image: 'ubuntu',
              size: 'small',
              labels: { bench: 'yes', shard: String(n % 16) },
            },
            { clientToken: `i${n}` },
          );
        }
      }),
    );
    const fillSeconds = (performance.now() - t0) / 1_000;
    const audit = (await (await fetch(`${sim.url}/audit/summary`)).json()) as { calls: number; ok: boolean };
    const rss = rssMiB(sim.child.pid!);
    console.log(
      `${INSTANCES} instances created in ${fillSeconds.toFixed(1)} s; stratus sim RSS ${rss} MiB; audit ${audit.calls} entries`,
    );
    const g6 = await isolation(sim.url);
    console.log(
      `G6: compute breaker open after ${g6.openAfterMs} ms; network p99 ${g6.beforeP99} ms before, ${g6.duringP99} ms during the compute fault`,
    );
    console.log(
      JSON.stringify({
        in_process_create_ns: local.createNs,
        in_process_get_ns: local.getNs,
        http_destructive_calls_per_s: simRate,
        bare_fastify_calls_per_s: bareRate,
        sim_vs_bare: Math.round((simRate / bareRate) * 100) / 100,
        adapter_destructive_calls_per_s: adapterSimRate,
        adapter_bare_calls_per_s: adapterBareRate,
        adapter_sim_vs_bare: Math.round((adapterSimRate / adapterBareRate) * 100) / 100,
        concurrency: CONCURRENCY,
        instances: INSTANCES,
        instances_fill_per_s: Math.round(INSTANCES / fillSeconds),
        rss_mib_with_instances: rss,
        audit_entries: audit.calls,
        audit_ok: audit.ok,
        g6_compute_open_after_ms: g6.openAfterMs,
        g6_network_p99_ms_before: g6.beforeP99,
        g6_network_p99_ms_during_fault: g6.duringP99,
        quick,
      }),
    );
  } finally {
    bare.child.kill('SIGTERM');
    sim.child.kill('SIGTERM');
  }
}

await main();
