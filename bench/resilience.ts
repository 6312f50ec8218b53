// Resilience benchmark: per-call overhead of a breaker, and of breaker + bulkhead +
// timeout, for Stratus, cockatiel and opossum around `async () => 1`; then fail-fast
// latency while open, also of a backend port in Stratus' resilient wrapper (deadline, retry,
// breaker, bulkhead, attempt timeout), against the same five layers entered one by one. Contenders alternate inside every round, rounds repeat, and the
// figures are medians over rounds. `--quick` runs fewer, shorter rounds (< 60 s).
//
//   npm run bench:resilience [-- --quick]

import {
  ConsecutiveBreaker,
  circuitBreaker,
  bulkhead as cockatielBulkhead,
  timeout as cockatielTimeout,
  handleAll,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import Opossum from 'opossum';
import { isTransientBackendError, resilient } from '../src/backends/resilient.js';
import type { CallOptions } from '../src/core/ports/common.js';
import { fullJitter } from '../src/ha/resilience/backoff.js';
import { Bulkhead, CircuitBreaker, compose, Retry, Timeout } from '../src/ha/resilience/index.js';

const quick = process.argv.includes('--quick');
const CALLS = quick ? 100_000 : 300_000;
const ROUNDS = quick ? 5 : 11;
const OPEN_SAMPLES = quick ? 20_000 : 100_000;
const OPEN_ROUNDS = quick ? 3 : 7;
// Long enough that no breaker leaves the open state, nor any deadline passes, during a run.
const LONG_MS = 3_600_000;

const work = async (): Promise<number> => 1;
const failing = async (): Promise<number> => {
  throw new Error('down');
};

type Run = () => Promise<unknown>;

interface Contender {
  readonly name: string;
  readonly run: Run;
}

function stratusBreaker(): CircuitBreaker {
  return new CircuitBreaker({ name: 'bench', consecutiveFailures: 5, openMs: LONG_MS });
}

function stratusStack() {
  return compose(
    stratusBreaker(),
    new Bulkhead({ name: 'bench', maxConcurrent: 20, maxQueued: 100 }),
    new Timeout({ name: 'bench', timeoutMs: 30_000 }),
  );
}

/** The five layers of an idempotent operation in the resilient wrapper, entered in turn. */
function stratusLayers() {
  return compose(
    new Timeout({ name: 'bench', timeoutMs: 30_000 }),
    new Retry({
      name: 'bench',
      maxAttempts: 3,
      backoff: fullJitter({ baseMs: 100, capMs: 2_000 }),
      shouldRetry: isTransientBackendError,
    }),
    stratusBreaker(),
    new Bulkhead({ name: 'bench', maxConcurrent: 20, maxQueued: 20 }),
    new Timeout({ name: 'bench', timeoutMs: 30_000 }),
  );
}

/** A one-operation port in the resilient wrapper, idempotent as a read is. */
function stratusPort(fn: () => Promise<number>) {
  const port = { call: (_options?: CallOptions) => fn() };
  return resilient('bench', port, { call: { timeoutMs: 30_000, idempotent: true, optionsAt: 0 } }, 20, {
    breaker: { consecutiveFailures: 5, openMs: LONG_MS },
  });
}

function cockatielBreaker() {
  return circuitBreaker(handleAll, { halfOpenAfter: LONG_MS, breaker: new ConsecutiveBreaker(5) });
}

function cockatielStack() {
  return wrap(
    cockatielBreaker(),
    cockatielBulkhead(20, 100),
    cockatielTimeout(30_000, TimeoutStrategy.Cooperative),
  );
}

const opossums: Opossum[] = [];
function opossum(fn: () => Promise<number>, stacked: boolean): Opossum<[], number> {
  const breaker = new Opossum(fn, {
    resetTimeout: LONG_MS,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    timeout: stacked ? 30_000 : false,
    ...(stacked ? { capacity: 20 } : {}),
  });
  opossums.push(breaker);
  return breaker;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Mean ns per call of `run`, called back to back `calls` times. */
async function timeLoop(run: Run, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run();
  return Number(process.hrtime.bigint() - start) / calls;
}

async function overhead(): Promise<Record<string, number>> {
  const sBreaker = compose(stratusBreaker());
  const sStack = stratusStack();
  const cBreaker = cockatielBreaker();
  const cStack = cockatielStack();
  const oBreaker = opossum(work, false);
  const oStack = opossum(work, true);
  const contenders: Contender[] = [
    { name: 'stratus_breaker', run: () => sBreaker.execute(work) },
    { name: 'stratus_stack', run: () => sStack.execute(work) },
    { name: 'cockatiel_breaker', run: () => cBreaker.execute(work) },
    { name: 'cockatiel_stack', run: () => cStack.execute(work) },
    { name: 'opossum_breaker', run: () => oBreaker.fire() },
    { name: 'opossum_stack', run: () => oStack.fire() },
  ];
  const bare: Run = () => work();
  // Warm-up: let the JIT settle every path before anything is measured.
  for (const c of [{ name: 'bare', run: bare }, ...contenders]) await timeLoop(c.run, CALLS / 2);
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no contender always runs right after a GC-heavy one.
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + round) % contenders.length]!;
      const base = await timeLoop(bare, CALLS);
      const total = await timeLoop(c.run, CALLS);
      samples.get(c.name)!.push(total - base);
    }
  }
  const result: Record<string, number> = {};
  for (const [name, values] of samples) result[`${name}_ns`] = Math.round(median(values));
  return result;
}

/** Median and p99 latency (µs) of calls refused by an open breaker. */
async function openLatency(): Promise<Record<string, number>> {
  const sStack = stratusStack();
  for (let i = 0; i < 5; i++) await sStack.execute(failing).catch(() => {});
  const cStack = cockatielStack();
  for (let i = 0; i < 5; i++) await cStack.execute(failing).catch(() => {});
  const oStack = opossum(failing, true);
  for (let i = 0; i < 20 && !oStack.opened; i++) await oStack.fire().catch(() => {});
  if (!oStack.opened) throw new Error('opossum breaker did not open');
  const layers = stratusLayers();
  for (let i = 0; i < 5; i++) await layers.execute(failing).catch(() => {});
  let failingPort = true;
  const port = stratusPort(() => (failingPort ? failing() : work()));
  for (let i = 0; i < 5; i++) await port.port.call().catch(() => {});
  failingPort = false;
  if (port.breaker.state !== 'open') throw new Error('the port breaker did not open');
  const contenders: Contender[] = [
    { name: 'stratus', run: () => sStack.execute(work) },
    { name: 'stratus_port', run: () => port.port.call() },
    { name: 'stratus_layers', run: () => layers.execute(work) },
    { name: 'cockatiel', run: () => cStack.execute(work) },
    { name: 'opossum', run: () => oStack.fire() },
  ];
  const noop = (): void => {};
  const measure = async (run: Run, samples: number): Promise<Float64Array> => {
    const lat = new Float64Array(samples);
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      await run().then(noop, noop);
      lat[i] = Number(process.hrtime.bigint() - start) / 1000;
    }
    return lat.sort();
  };
  for (const c of contenders) await measure(c.run, OPEN_SAMPLES / 2);
  const med = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const p99 = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < OPEN_ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + round) % contenders.length]!;
      const lat = await measure(c.run, OPEN_SAMPLES);
      med.get(c.name)!.push(percentile(lat, 0.5));
      p99.get(c.name)!.push(percentile(lat, 0.99));
    }
  }
  const result: Record<string, number> = {};
  for (const c of contenders) {
    result[`${c.name}_open_median_us`] = round2(median(med.get(c.name)!));
    result[`${c.name}_open_p99_us`] = round2(median(p99.get(c.name)!));
  }
  return result;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined || b === 0 ? Number.NaN : round2(a / b);
}

async function main(): Promise<void> {
  const started = performance.now();
  const figures = { ...(await overhead()), ...(await openLatency()) };
  for (const o of opossums) o.shutdown();
  const rows: [string, string, string, string][] = [
    ['', 'stratus', 'cockatiel', 'opossum'],
    ['breaker overhead (ns)', ...triple(figures, 'breaker_ns')],
    ['breaker+bulkhead+timeout (ns)', ...triple(figures, 'stack_ns')],
    ['open fail-fast median (µs)', ...triple(figures, 'open_median_us')],
    ['open fail-fast p99 (µs)', ...triple(figures, 'open_p99_us')],
  ];
  const portRows: [string, string, string][] = [
    ['', 'wrapped port', 'five layers'],
    ['open fail-fast median (µs)', ...pair(figures, 'open_median_us')],
    ['open fail-fast p99 (µs)', ...pair(figures, 'open_p99_us')],
  ];
  const width = [32, 10, 10, 10];
  for (const row of rows)
    console.log(
      row.map((cell, i) => cell.padStart(i === 0 ? 0 : width[i]!).padEnd(i === 0 ? width[0]! : 0)).join(''),
    );
  for (const row of portRows)
    console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(width[0]!) : cell.padStart(14))).join(''));
  console.log(
    `node ${process.version}, ${quick ? 'quick' : 'full'} run: ${ROUNDS} rounds of ${CALLS} calls, ${OPEN_ROUNDS} rounds of ${OPEN_SAMPLES} open samples, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const summary = {
    ...figures,
    stack_vs_cockatiel: ratio(figures.stratus_stack_ns, figures.cockatiel_stack_ns),
    stack_vs_opossum: ratio(figures.stratus_stack_ns, figures.opossum_stack_ns),
    breaker_vs_cockatiel: ratio(figures.stratus_breaker_ns, figures.cockatiel_breaker_ns),
    breaker_vs_opossum: ratio(figures.stratus_breaker_ns, figures.opossum_breaker_ns),
    open_p99_vs_cockatiel: ratio(figures.stratus_open_p99_us, figures.cockatiel_open_p99_us),
    open_p99_vs_opossum: ratio(figures.stratus_open_p99_us, figures.opossum_open_p99_us),
    port_open_median_vs_layers: ratio(
      figures.stratus_port_open_median_us,
      figures.stratus_layers_open_median_us,
    ),
    port_open_p99_vs_layers: ratio(figures.stratus_port_open_p99_us, figures.stratus_layers_open_p99_us),
    port_open_p99_vs_stack: ratio(figures.stratus_port_open_p99_us, figures.stratus_open_p99_us),
    quick,
  };
  console.log(JSON.stringify(summary));
}

function pair(figures: Record<string, number>, suffix: string): [string, string] {
  const cell = (name: string): string => String(figures[`${name}_${suffix}`] ?? '-');
  return [cell('stratus_port'), cell('stratus_layers')];
}

function triple(figures: Record<string, number>, suffix: string): [string, string, string] {
  const cell = (name: string): string => String(figures[`${name}_${suffix}`] ?? '-');
  return [cell('stratus'), cell('cockatiel'), cell('opossum')];
}

await main();
