// Simulator benchmark: the in-process cost of a destructive call; destructive calls per
// second served by one `stratus sim` over loopback HTTP (audit on), driven by autocannon
// (what the server can take) and through the HTTP adapter (what one Node client gets),
// each against a bare Fastify handler returning the same JSON in the same run; the cost
// per call of the adapter (undici) against Node's global fetch (the adapter's transport
// before, kept here as the reference), client and simulator CPU per call; the cost per
// call of a reconcile pass's calls with 1,000 and with 20,000 instances existing, in
// process and in the `stratus sim` process; and the resident memory of one `stratus sim`
// holding 100,000 instances.
//
//   npm run bench:sim [-- --quick] [-- --part=adapter|scale]
//
// The last line is one JSON object with every figure.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { createHttpBackends } from '../src/backends/http/index.js';
import { createBackends } from '../src/backends/index.js';
import type { BackendPorts } from '../src/core/ports/index.js';
import { createSimBackends } from '../src/sim/index.js';

const quick = process.argv.includes('--quick');
const part = process.argv.find((a) => a.startsWith('--part='))?.slice('--part='.length) ?? 'all';
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

/** CPU seconds process `pid` has used (user + system), from /proc (clock ticks of 10 ms). */
function cpuSecondsOf(pid: number): number {
  // Fields after the command name start at the 3rd; utime and stime are the 14th and 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds this process has used. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Calls/s of `call` from `CONCURRENCY` loops, and µs of CPU per call here and in `simPid`. */
async function costed(seconds: number, simPid: number, call: (n: number) => Promise<unknown>) {
  const own = ownCpuSeconds();
  const sim = cpuSecondsOf(simPid);
  const until = performance.now() + seconds * 1_000;
  let done = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await call(next++);
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1_000;
  return {
    perSecond: Math.round(done / elapsed),
    clientCpuUs: Math.round(((ownCpuSeconds() - own) * 1e6) / done),
    simCpuUs: Math.round(((cpuSecondsOf(simPid) - sim) * 1e6) / done),
  };
}

/**
 * The adapter's transport before this change, as a reference: Node's global fetch, as
 * src/backends/http/client.ts called it (JSON body, the caller's signal, `json()` of the
 * answer). Only the success path: the benchmark makes no failing calls.
 */
function fetchTransport(url: string) {
  return async (path: string, body: unknown, signal: AbortSignal): Promise<unknown> => {
    const response = await fetch(new URL(path, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, application/x-ndjson' },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    return ((await response.json()) as { result: unknown }).result;
  };
}

/**
 * The adapter (undici) against the fetch reference on the same `stratus sim`, a read
 * (`getInstance`) and a destructive call (`createVolume`), each call with a signal of its
 * own as the resilient wrapper gives one; rounds alternate so machine load hits both alike.
 */
async function adapterCost(url: string, simPid: number) {
  const ports = createHttpBackends({ url, caller: 'bench' });
  const viaFetch = fetchTransport(url);
  const { id } = await ports.compute.createInstance(
    { name: 'read-me', image: 'u', size: 'small' },
    { clientToken: 'read-me' },
  );
  const signal = () => new AbortController().signal;
  const calls = {
    read: {
      undici: () => ports.compute.getInstance(id, { signal: signal() }),
      fetch: () => viaFetch('/v1/compute/getInstance', { id }, signal()),
    },
    destructive: {
      undici: (n: number) =>
        ports.storage.createVolume(
          { name: `u${n}`, sizeGiB: 10 },
          { clientToken: `u${n}`, fencingToken: 1, signal: signal() },
        ),
      fetch: (n: number) =>
        viaFetch(
          '/v1/storage/createVolume',
          {
            spec: { name: `f${n}`, sizeGiB: 10 },
            options: { clientToken: `f${n}`, fencingToken: 1, caller: 'bench' },
          },
          signal(),
        ),
    },
  };
  const out: Record<string, Record<string, Awaited<ReturnType<typeof costed>>>> = {};
  for (const [kind, transports] of Object.entries(calls)) {
    out[kind] = {};
    for (const call of Object.values(transports)) await costed(1, simPid, call); // warm
    const rounds: Record<string, Awaited<ReturnType<typeof costed>>[]> = { undici: [], fetch: [] };
    for (let round = 0; round < 2; round++) {
      for (const [name, call] of Object.entries(transports)) {
        rounds[name]!.push(await costed(HTTP_SECONDS / 2, simPid, (n) => call(n + 1_000_000 * (round + 1))));
      }
    }
    // The round with the most calls/s of each, the other figures of that round.
    for (const [name, results] of Object.entries(rounds)) {
      out[kind]![name] = results.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    }
  }
  return out;
}

/** The label a driver puts on the backend resource of a control-plane resource. */
const RESOURCE_LABEL = 'stratus.io/resource-id';

/**
 * The calls of a new instance's reconcile pass, without the network attach: the driver's
 * lookup by label (a miss, limit 1), the create, the address, and a read of the instance.
 */
async function pass(ports: BackendPorts, networkId: string, name: string): Promise<number> {
  const labels = { [RESOURCE_LABEL]: name };
  await ports.compute.listInstances({ labels, limit: 1 });
  const instance = await ports.compute.createInstance(
    { name, image: 'ubuntu', size: 'small', labels },
    { clientToken: `${name}/create`, fencingToken: 1 },
  );
  await ports.network.allocateIp(networkId, { clientToken: `${name}/address` });
  await ports.compute.getInstance(instance.id);
  return 4;
}

/** Runs passes of new instances from `CONCURRENCY` loops until `total` exist. */
async function fill(ports: BackendPorts, networkId: string, from: number, total: number, prefix: string) {
  let next = from;
  let calls = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        // Not `calls += await …`: that reads `calls` before the await and loses the others' adds.
        const made = await pass(ports, networkId, `${prefix}${next++}`);
        calls += made;
      }
    }),
  );
  return calls;
}

const SCALES = [1_000, 20_000] as const;
const PASSES = quick ? 1_000 : 3_000;

/** ns per call of a pass in process, with each of `SCALES` instances existing. */
async function scaleInProcess() {
  const out: Record<number, number> = {};
  // The first scale is measured twice, the first time only to warm the JIT up.
  for (const existing of [SCALES[0], ...SCALES]) {
    const sim = createSimBackends();
    const net = await sim.network.createNetwork({ name: 'n', cidr: '10.0.0.0/16' }, { clientToken: 'n' });
    await fill(sim, net.id, 0, existing, 'inst_old');
    // The best of three rounds: a collection of the filled heap lands in one of them.
    const rounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const calls = await fill(sim, net.id, 0, PASSES, `inst_new${round}_`);
      rounds.push(((performance.now() - t0) * 1e6) / calls);
    }
    out[existing] = Math.round(Math.min(...rounds));
  }
  return out;
}

/**
 * µs of the `stratus sim` process's CPU per call of a pass over HTTP (the adapter), with
 * each of `SCALES` instances existing in one simulator, filled up between the two.
 */
async function scaleOverHttp(url: string, simPid: number) {
  const ports = createHttpBackends({ url, caller: 'bench' });
  const net = await ports.network.createNetwork(
    { name: 'scale', cidr: '10.0.0.0/16' },
    { clientToken: 'scale' },
  );
  const out: Record<number, number> = {};
  let existing = 0;
  for (const [i, target] of SCALES.entries()) {
    await fill(ports, net.id, existing, target, 'inst_old');
    existing = target;
    const before = cpuSecondsOf(simPid);
    const calls = await fill(ports, net.id, 0, PASSES, `inst_new${i}_`);
    out[target] = Math.round(((cpuSecondsOf(simPid) - before) * 1e6) / calls);
  }
  return out;
}

/**
 * ns per `attach` in process to a network that already holds `n` attachments: the one call
 * of a pass whose cost grows, because the port answers with the whole network.
 */
async function attachCost(n: number): Promise<number> {
  const sim = createSimBackends();
  const net = await sim.network.createNetwork({ name: 'n', cidr: '10.0.0.0/16' }, { clientToken: 'n' });
  const attachments = Array.from({ length: n }, (_, i) => `i-old${i}`);
  sim.network.importState({ networks: [{ ...net, attachments }], pools: [[net.id, { used: [], next: {} }]] });
  const calls = 200;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    await sim.network.attach({ networkId: net.id, instanceId: `i-new${i}` }, { clientToken: `a${i}` });
  }
  return Math.round(((performance.now() - t0) * 1e6) / calls);
}

/** The adapter and scale parts: their own `stratus sim`, their own JSON line. */
async function costParts(): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  const sim = await startChild(['--import', 'tsx', MAIN, 'sim', '--port', '0', '--profile', 'fast']);
  try {
    if (part === 'all' || part === 'adapter') {
      const adapter = await adapterCost(sim.url, sim.child.pid!);
      for (const [kind, transports] of Object.entries(adapter)) {
        const { undici, fetch: viaFetch } = transports as Record<string, Awaited<ReturnType<typeof costed>>>;
        console.log(
          `adapter, ${kind} call, ${CONCURRENCY} in flight: undici ${undici!.perSecond}/s, client ${undici!.clientCpuUs} µs CPU, sim ${undici!.simCpuUs} µs; fetch (before) ${viaFetch!.perSecond}/s, client ${viaFetch!.clientCpuUs} µs, sim ${viaFetch!.simCpuUs} µs`,
        );
      }
      figures.adapter = adapter;
    }
    if (part === 'all' || part === 'scale') {
      const local = await scaleInProcess();
      const remote = await scaleOverHttp(sim.url, sim.child.pid!);
      const attach = { 1000: await attachCost(1_000), 20000: await attachCost(20_000) };
      console.log(
        `a pass's calls (lookup by label, create, address, read) with ${SCALES.join(' / ')} instances: in process ${local[1_000]} / ${local[20_000]} ns per call; stratus sim CPU over HTTP ${remote[1_000]} / ${remote[20_000]} µs per call`,
      );
      console.log(
        `attach to a network holding 1,000 / 20,000 attachments: ${attach[1000]} / ${attach[20000]} ns`,
      );
      figures.scale = {
        passes: PASSES,
        in_process_ns_per_call: local,
        sim_cpu_us_per_call_http: remote,
        attach_ns: attach,
      };
    }
  } finally {
    sim.child.kill('SIGTERM');
  }
  return figures;
}

async function main(): Promise<void> {
  const costs = await costParts();
  if (part !== 'all') {
    console.log(JSON.stringify({ ...costs, quick }));
    return;
  }
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
    // The bare handler through the adapter's own transport: undici's request over a pool.
    const barePool = new Pool(bare.url);
    const bareCall = (n: number) =>
      barePool
        .request({
          method: 'POST',
          path: '/v1/storage/createVolume',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ spec: { name: `v${n}`, sizeGiB: 10 }, options: { clientToken: `v${n}` } }),
        })
        .then((r) => r.body.json());
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
      `through the adapter (undici), ${CONCURRENCY} in flight: stratus sim ${adapterSimRate} destructive calls/s, bare Fastify ${adapterBareRate}/s`,
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
        ...costs,
        quick,
      }),
    );
  } finally {
    bare.child.kill('SIGTERM');
    sim.child.kill('SIGTERM');
  }
}

await main();
