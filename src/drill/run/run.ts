// One drill run: start the cluster, drive the load while the faults run on their schedule,
// settle, collect, stop everything. The run directory ends with history.ndjson, faults.json
// and evidence.json (src/drill/evidence.ts), which the checker and the report read; logs/,
// haproxy.cfg and state.json stay beside them.

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinKinds } from '../../kinds/index.js';
import { DRILL_ACCOUNTING_MINUTE_MS, ProcessGroup, type ReplicaRole } from '../cluster/group.js';
import type { DrillEvidence, FaultRecord, FaultStep, Scenario } from '../evidence.js';
import { seededRandom } from '../faults/random.js';
import { loadScenario, SCENARIO_DIR } from '../faults/scenario.js';
import { runFaults, type TimedStep, timeline } from '../faults/schedule.js';
import { LoadClient } from '../load/client.js';
import { HistoryWriter } from '../load/history.js';
import { kindsWithoutBody, LoadMix, MIX_KINDS } from '../load/mix.js';
import { type LoadStats, runOpenLoop } from '../load/open-loop.js';
import { collectBreakers, collectDatabase, collectResources, collectSim, settle } from './collect.js';
import { collectControllers } from './controllers.js';
import { sampleLeases, withSampledLeases } from './lease-sampler.js';

/** What `stratus drill run` was asked. */
export interface RunOptions {
  /** Scenario names (shipped) or paths of scenario files. */
  readonly scenarios: readonly string[];
  readonly replicas: Readonly<Record<ReplicaRole, number>>;
  readonly durationMs: number;
  readonly ratePerS: number;
  readonly seed: number;
  /** The run directory. */
  readonly outDir: string;
  /** The gate file for the checker (passed through; the report reads it). */
  readonly gateFile?: string;
  readonly databaseUrl: string;
  readonly redisUrl?: string;
  /** Keep the run's database. */
  readonly keep?: boolean;
  /** How long to wait for every operation to end after the load. */
  readonly settleMs: number;
  /** Most requests in flight at once. */
  readonly maxInFlight: number;
  /** A chaos scenario's step interval, instead of its file's. */
  readonly chaosEveryMs?: number;
  readonly progress?: (line: string) => void;
  /** Aborts the run (Ctrl-C): the load and the faults stop, everything is cleaned up. */
  readonly signal?: AbortSignal;
}

/** What a run produced. */
export interface RunResult {
  readonly dir: string;
  readonly faults: number;
  readonly faultErrors: number;
  readonly load: LoadStats;
  readonly unsettled: { operations: number; jobs: number };
}

/** The steps of every shipped scenario but the generated ones: what chaos draws from. */
export function shippedSteps(): FaultStep[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => loadScenario(f.slice(0, -'.json'.length)))
    .filter((s) => s.chaos === undefined)
    .flatMap((s) => s.steps);
}

/** Loads every scenario first: a bad one fails the run before anything starts. */
export function scenariosOf(options: Pick<RunOptions, 'scenarios' | 'chaosEveryMs'>): Scenario[] {
  return options.scenarios.map((name) => {
    const s = loadScenario(name);
    return s.chaos && options.chaosEveryMs ? { ...s, chaos: { everyMs: options.chaosEveryMs } } : s;
  });
}

export async function runDrill(options: RunOptions): Promise<RunResult> {
  const progress = options.progress ?? (() => {});
  const scenarios = scenariosOf(options);
  const faultRandom = seededRandom(options.seed);
  // Chaos draws from every shipped step; a Redis that is not the drill's own is never restarted.
  const pool = shippedSteps().filter((s) => options.redisUrl === undefined || s.action !== 'redis-restart');
  const steps = timeline(scenarios, options.durationMs, faultRandom, pool);
  const missing = kindsWithoutBody(builtinKinds.map((k) => k.name));
  if (missing.length > 0) progress(`warning: the load has no create body for ${missing.join(', ')}`);

  const dir = resolve(options.outDir);
  mkdirSync(dir, { recursive: true });
  const runId = `${Date.now().toString(36)}_${Math.floor(faultRandom() * 1e6).toString(36)}`;
  const group = new ProcessGroup({
    dir,
    databaseUrl: options.databaseUrl,
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    replicas: options.replicas,
    runId,
    keep: options.keep ?? false,
    progress,
  });
  const startedAt = new Date().toISOString();
  // What was asked, so the report (writeReport(dir, gateFile)) and a rerun need nothing else.
  writeFileSync(
    join(dir, 'run.json'),
    `${JSON.stringify(
      {
        startedAt,
        scenarios: options.scenarios,
        replicas: options.replicas,
        durationMs: options.durationMs,
        ratePerS: options.ratePerS,
        seed: options.seed,
        ...(options.gateFile === undefined ? {} : { gateFile: resolve(options.gateFile) }),
        ownRedis: options.redisUrl === undefined,
        steps: steps.length,
      },
      null,
      2,
    )}\n`,
  );
  const sampling = new AbortController();
  const onAbort = () => progress('interrupted: stopping the cluster');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await group.start();
    options.signal?.throwIfAborted();
    progress(
      `${steps.length} faults scheduled over ${Math.round(options.durationMs / 1000)} s at ${options.ratePerS} requests/s`,
    );

    const t0 = Date.now();
    const now = () => Date.now() - t0;
    // Every lease seen running, to the end of the settle: the jobs a faulted node held (G4).
    const leaseSampling = sampleLeases(group.databaseUrl, t0, sampling.signal);
    const history = new HistoryWriter(join(dir, 'history.ndjson'));
    const client = new LoadClient(group.apiUrl, history, now);
    const mix = new LoadMix(group.tenants, seededRandom(options.seed + 1), runId);
    const faults: FaultRecord[] = [];
    const faultErrors: Array<{
      scenario: string;
      action: FaultStep['action'];
      target: string;
      atMs: number;
      error: string;
      skipped?: boolean;
    }> = [];
    const loadDone = new AbortController();
    const stopFaults = () => loadDone.abort();
    options.signal?.addEventListener('abort', stopFaults, { once: true });
    const faultRun = runFaults(steps, {
      group,
      random: faultRandom,
      now,
      signal: loadDone.signal,
      progress,
      onRecord: (r) => {
        faults.push(r);
        progress(
          `fault ${faults.length}: ${r.action} ${r.target} (${r.resolved}) over ${r.endT - r.startT} ms${r.deferredMs === undefined ? '' : `, deferred ${r.deferredMs} ms`}`,
        );
      },
      onError: (s: TimedStep, err) => {
        faultErrors.push({
          scenario: s.scenario,
          action: s.step.action,
          target: s.step.target,
          atMs: s.step.atMs,
          error: err.message,
        });
        progress(`fault ${s.step.action} ${s.step.target} not injected: ${err.message}`);
      },
      onSkipped: (s: TimedStep, reason) => {
        faultErrors.push({
          scenario: s.scenario,
          action: s.step.action,
          target: s.step.target,
          atMs: s.step.atMs,
          error: reason,
          skipped: true,
        });
        progress(`fault ${s.step.action} ${s.step.target} skipped: ${reason}`);
      },
    });
    const load = await runOpenLoop(client, mix, {
      ratePerS: options.ratePerS,
      durationMs: options.durationMs,
      maxInFlight: options.maxInFlight,
      progress,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    loadDone.abort();
    await faultRun;
    await history.close();
    const loadEndT = now();
    faults.sort((a, b) => a.startT - b.startT);
    writeFileSync(join(dir, 'faults.json'), `${JSON.stringify(faults, null, 2)}\n`);
    progress(
      `load done: ${load.sent} requests, ${load.ok} ok, ${load.failed} failed, ${load.shed} shed; ${faults.length} faults`,
    );
    options.signal?.throwIfAborted();

    const unsettled = await settle(group.databaseUrl, options.settleMs, progress);
    const settledT = now();
    progress(
      unsettled.operations + unsettled.jobs === 0
        ? `settled in ${settledT - loadEndT} ms`
        : `not settled after ${options.settleMs} ms: ${unsettled.operations} operations, ${unsettled.jobs} jobs`,
    );
    sampling.abort();
    const sampled = await leaseSampling;
    const { audit, truth } = await collectSim(group.simUrl);
    const operator = group.tenants[0]!;
    const [resources, database, breakers, controllers] = await Promise.all([
      collectResources(group.apiUrl, group.tenants, MIX_KINDS, truth),
      collectDatabase(group.databaseUrl, t0),
      collectBreakers(group.apiUrl, operator.key),
      collectControllers(group.databaseUrl, group.simUrl, DRILL_ACCOUNTING_MINUTE_MS),
    ]);
    const c = controllers;
    progress(
      `controllers: cron ${c.cron.owed} slots owed, ${c.cron.gaps} gaps, ${c.cron.doubles} doubles; ` +
        `accounting ${c.accounting.owed} minutes owed, ${c.accounting.gaps} gaps, ${c.accounting.doubles} doubles; ` +
        `databases ${c.databases.twoWritable} instants with two writable primaries`,
    );
    const evidence: DrillEvidence = {
      version: 1,
      startedAt,
      scenarios: scenarios.map((s) => s.name),
      seed: options.seed,
      replicas: options.replicas,
      durationMs: options.durationMs,
      ratePerS: options.ratePerS,
      loadEndT,
      settledT,
      audit,
      terms: database.terms,
      jobs: withSampledLeases(database.jobs, sampled),
      deletionRequested: database.deletionRequested,
      resources,
      breakers,
      controllers,
      faultErrors,
      load,
      unsettled,
    };
    writeFileSync(join(dir, 'evidence.json'), `${JSON.stringify(evidence, null, 2)}\n`);
    writeFileSync(join(dir, 'truth.json'), `${JSON.stringify(truth)}\n`);
    return { dir, faults: faults.length, faultErrors: faultErrors.length, load, unsettled };
  } finally {
    sampling.abort();
    options.signal?.removeEventListener('abort', onAbort);
    progress('stopping the cluster');
    await group.stop();
  }
}
