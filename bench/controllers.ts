// Controllers benchmark: the compute controllers at the size the product asks for — 10,000
// instances in 500 autoscaling groups (20 each, Ready, addressed, running in the in-process
// simulated cloud at the CPU their policy targets, so no scaling is due) and 1,000 load
// balancers, 500 of them named by a group with their targets already what lb-sync wants.
//
// Part 1 calls the lb-sync and autoscaling passes (their definitions' `pass`, under a term of an
// in-process elector, fenced transactions real) over that unchanged world: wall time and this
// process's CPU (process.cpuUsage, user + system) per pass and per resource the pass reads from
// the store, median and p90 over the measured passes; checks that they wrote nothing; and the
// CPU of the PostgreSQL backends of the bench database (/proc, not in process.cpuUsage) beside
// it. Then the phases of each pass timed one by one (the reads, the backend listing, the CPU
// samples, the planning): where the time goes.
//
// Part 2 runs both controllers as a worker does — each under its guard on the PostgreSQL
// elector, woken by the event wake (at once on the outbox channel's notification, else a poll
// of stratus_events every 250 ms; passes woken by it scoped to the changes), their writes carried
// by the outbox relay, the job queue (PostgreSQL) and a worker running the reconcile job against
// the same simulated cloud, every setting at its default — and changes one thing at a time:
//   lb-sync:     a target removed from a load balancer by hand (a PATCH), which lb-sync puts back;
//   autoscaling: a group's desired raised by one (a PATCH), for which autoscaling creates a child.
// Each change is timed from its commit (the PATCH answered) to the backend call that follows
// from it (updateTargets with the full set again; createInstance), recorded by a wrapper of the
// simulator's ports; with, for each, when the controller's pass started and when it committed.
//
//   npm run bench:controllers [-- --quick]
//
// The last line of stdout is one JSON object with every figure.

import { execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createBackends } from '../src/backends/index.js';
import { loadConfig, optionsAt } from '../src/config/index.js';
import { createResourceService, type ResourceService } from '../src/control/service.js';
import { loadResource } from '../src/control/store.js';
import {
  autoscalingController,
  GROUPS,
  type GroupSpec,
  planGroup,
  type ScalingReport,
} from '../src/controllers/autoscaling/controller.js';
import type { ScalingState } from '../src/controllers/autoscaling/policy.js';
import {
  backendIdOf,
  backendInstances,
  childViewsOf,
  cpuPercent,
  resourcesOfKind,
} from '../src/controllers/compute/world.js';
import {
  type ControllerDefinition,
  defineController,
  type PassContext,
} from '../src/controllers/framework/define.js';
import { controllerGuard } from '../src/controllers/framework/guard.js';
import { eventWake } from '../src/controllers/framework/wake.js';
import {
  lbSyncController,
  targetsOf as lbTargetsOf,
  loadBalancerViews,
  type TargetSpec,
  targetIndex,
} from '../src/controllers/lb-sync/controller.js';
import type { BackendPorts } from '../src/core/ports/index.js';
import type { Resource } from '../src/core/resources/resource.js';
import type { Database } from '../src/ha/db/database.js';
import { fencedTransaction } from '../src/ha/leader/fence.js';
import { MemoryElector, MemoryLeadership } from '../src/ha/leader/memory-elector.js';
import type { Runnable } from '../src/ha/lifecycle/runnable.js';
import { builtinRegistry } from '../src/kinds/index.js';
import { createControlPlane } from '../src/runtime/control-plane.js';
import { createJobSystem } from '../src/runtime/jobs.js';
import { controlPlaneKeys } from '../src/runtime/leader-keys.js';
import { createElector } from '../src/runtime/leadership.js';
import { applyMigrations, openStores } from '../src/runtime/stores.js';
import { createSimBackends, type SimBackends } from '../src/sim/index.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { PG_URL } from '../test/helpers/services.js';
import { type SeededGroup, seedWorld, type World } from './controllers-world.js';

const quick = process.argv.includes('--quick');
const SIZE = { tenants: 10, groups: 500, instancesPerGroup: 20, loadBalancers: 1_000 } as const;
const WARMUPS = quick ? 1 : 2;
const PASSES = quick ? 3 : 15;
/** Repetitions of each phase of part 1's breakdown. */
const PHASE_ROUNDS = quick ? 1 : 3;
/**
 * Changes of each scenario in part 2. An autoscaling change takes three times a target's: it
 * is followed until its new instance serves (~4 s each), which keeps the full run near 5 min.
 */
// Enough changes that a p99 is not simply the worst one (200 in all).
const LB_EVENTS = quick ? 4 : 150;
const AS_EVENTS = quick ? 2 : 50;
/** The goals. */
const GOAL_CPU_US_PER_RESOURCE = 20;
const GOAL_EVENT_P99_MS = 100;
/** Longest wait for one change's backend call; a change not answered by then counts at this value. */
const EVENT_TIMEOUT_MS = 30_000;

const log = (line: string) => process.stderr.write(`${line}\n`);
const say = (line: string) => process.stdout.write(`${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile. */
const percentile = (xs: readonly number[], p: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
};
const median = (xs: readonly number[]) => percentile(xs, 50);
const cpuMsSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1_000;
};
/** A copy of `xs` in random order. */
const shuffled = <T>(xs: readonly T[]): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// PostgreSQL's side

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has spent; 0 once it is gone. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * The CPU of the PostgreSQL backends serving one database, read from /proc by pids from
 * pg_stat_activity (on a connection to another database, so the reading costs it nothing).
 * Tick-grained (10 ms): meaningful summed over many passes, not per pass.
 */
class PostgresSide {
  readonly #admin = new pg.Client({ connectionString: PG_URL });
  constructor(private readonly database: string) {}
  open = () => this.#admin.connect();
  close = () => this.#admin.end();
  /** CPU seconds of every backend of the database, by pid. */
  async sample(): Promise<Map<number, number>> {
    const res = await this.#admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [this.database],
    );
    return new Map(res.rows.map((r) => [r.pid, cpuSecondsOf(r.pid)]));
  }
  /**
   * Sessions of the database the server ended with a FATAL error (pg_stat_database): here the
   * elector's and the fenced transactions' idle timeouts. Read once its sessions are closed.
   */
  async sessionsEndedByServer(): Promise<number> {
    const res = await this.#admin.query<{ n: string }>(
      'SELECT sessions_fatal AS n FROM pg_stat_database WHERE datname = $1',
      [this.database],
    );
    return Number(res.rows[0]?.n ?? 0);
  }
  /** Ms spent between two samples (a backend born since counts from zero). */
  static spentMs(before: Map<number, number>, after: Map<number, number>): number {
    let s = 0;
    for (const [pid, cpu] of after) s += cpu - (before.get(pid) ?? 0);
    return s * 1_000;
  }
}

/** The highest resource version drawn: moves with every write of a resource. */
async function versionHigh(db: Database): Promise<number> {
  const res = await db.query<{ v: string }>('SELECT last_value AS v FROM stratus_resource_version_seq');
  return Number(res.rows[0]!.v);
}

// ---------------------------------------------------------------------------------------------
// Recorded backend calls

/** One call the reconcile jobs made to the simulated cloud. */
interface Call {
  readonly op: string;
  readonly at: number;
  readonly args: readonly unknown[];
}

/** The backend calls of some operations, with a wait for the next one that matches. */
class CallLog {
  readonly calls: Call[] = [];
  readonly #waiters = new Set<{ match: (c: Call) => boolean; resolve: (c: Call) => void }>();

  /** `port` with `ops` recorded when called (the time taken before the call runs). */
  wrap<T extends object>(port: T, ops: readonly string[]): T {
    return new Proxy(port, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (typeof prop !== 'string' || !ops.includes(prop)) return fn.bind(target);
        return (...args: unknown[]) => {
          this.#record({ op: prop, at: performance.now(), args });
          return fn.apply(target, args);
        };
      },
    });
  }

  #record(call: Call): void {
    this.calls.push(call);
    for (const w of [...this.#waiters])
      if (w.match(call)) {
        this.#waiters.delete(w);
        w.resolve(call);
      }
  }

  /**
   * The first call at or after `since` that matches: one already made, or the next; undefined
   * when none comes within EVENT_TIMEOUT_MS.
   */
  /** The first matching call from `since` on; undefined at the timeout or once `signal` aborts. */
  async first(since: number, match: (c: Call) => boolean, signal?: AbortSignal): Promise<Call | undefined> {
    const made = this.calls.find((c) => c.at >= since && match(c));
    if (made) return made;
    return new Promise<Call | undefined>((resolve) => {
      const waiter = {
        match,
        resolve: (c: Call | undefined) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', stop);
          this.#waiters.delete(waiter);
          resolve(c);
        },
      };
      const stop = () => waiter.resolve(undefined);
      const timer = setTimeout(stop, EVENT_TIMEOUT_MS);
      signal?.addEventListener('abort', stop, { once: true });
      this.#waiters.add(waiter);
      if (signal?.aborted) stop();
    });
  }
}

/** When each pass of a controller started and when each of its fenced writes committed. */
interface PassTimes {
  readonly starts: number[];
  readonly commits: number[];
  readonly ends: number[];
}

/** `def` with its passes' times recorded in `times`. */
function timed(def: ControllerDefinition, times: PassTimes): ControllerDefinition {
  return defineController({
    ...def,
    async pass(ctx) {
      times.starts.push(performance.now());
      const fenced: PassContext['fenced'] = async (fn) => {
        const out = await ctx.fenced(fn);
        times.commits.push(performance.now());
        return out;
      };
      try {
        return await def.pass({ ...ctx, fenced, now: ctx.now });
      } finally {
        times.ends.push(performance.now());
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Part 1: passes over the unchanged world

interface PassFigures {
  readonly resources: number;
  readonly wallMs: number[];
  readonly cpuMs: number[];
  readonly postgresCpuMsPerPass: number;
  readonly writes: number;
  /** The first warm-up pass (autoscaling: it records every group's state and report). */
  readonly firstPassMs: number;
}

async function measurePasses(
  def: ControllerDefinition,
  ctx: PassContext,
  resources: number,
  postgres: PostgresSide,
): Promise<PassFigures> {
  let firstPassMs = 0;
  for (let i = 0; i < WARMUPS; i++) {
    const t0 = performance.now();
    await def.pass(ctx);
    if (i === 0) firstPassMs = performance.now() - t0;
  }
  const version = await versionHigh(ctx.db);
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  const pgBefore = await postgres.sample();
  for (let i = 0; i < PASSES; i++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await def.pass(ctx);
    wallMs.push(performance.now() - t0);
    cpuMs.push(cpuMsSince(cpu));
  }
  const postgresCpuMsPerPass = PostgresSide.spentMs(pgBefore, await postgres.sample()) / PASSES;
  return {
    resources,
    wallMs,
    cpuMs,
    postgresCpuMsPerPass,
    writes: (await versionHigh(ctx.db)) - version,
    firstPassMs,
  };
}

/** Wall and CPU ms of one phase, medians over rounds. */
interface Phase {
  readonly name: string;
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function phase<T>(name: string, run: () => Promise<T> | T): Promise<{ phase: Phase; value: T }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < PHASE_ROUNDS; i++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    value = await run();
    walls.push(performance.now() - t0);
    cpus.push(cpuMsSince(cpu));
  }
  return { phase: { name, wallMs: median(walls), cpuMs: median(cpus) }, value: value as T };
}

/** lb-sync's pass taken apart: each read, then the targets of every named load balancer. */
async function lbSyncPhases(db: Database, compute: BackendPorts['compute']): Promise<Phase[]> {
  const signal = new AbortController().signal;
  const groups = await phase('read groups', () => resourcesOfKind(db, GROUPS));
  const ids = groups.value.map((g) => g.id);
  const children = await phase('read children', () => childViewsOf(db, ids));
  const lbs = await phase('read load balancers', () => loadBalancerViews(db));
  const backend = await phase('list backend instances', () => backendInstances(compute, signal));
  const running = new Set([...backend.value.values()].filter((i) => i.state === 'running').map((i) => i.id));
  const wanted = await phase('wanted targets of every load balancer', () => {
    let changed = 0;
    const index = targetIndex(groups.value, children.value, running);
    for (const lb of lbs.value) {
      if (lb.deleting) continue;
      const targets = lbTargetsOf(lb, index);
      if (!isDeepStrictEqual(targets, lb.targets)) changed++;
    }
    return changed;
  });
  if (wanted.value !== 0) throw new Error(`lb-sync would change ${wanted.value} load balancers`);
  return [groups.phase, children.phase, lbs.phase, backend.phase, wanted.phase];
}

const STATES_SQL = readFileSync(
  new URL('../src/controllers/autoscaling/sql/states.sql', import.meta.url),
  'utf8',
);

/** Autoscaling's pass taken apart: each read, the CPU samples of every group, then the plans. */
async function autoscalingPhases(db: Database, compute: BackendPorts['compute']): Promise<Phase[]> {
  const signal = new AbortController().signal;
  const groups = await phase('read groups', () => resourcesOfKind(db, GROUPS));
  const ids = groups.value.map((g) => g.id);
  const children = await phase('read children', () => childViewsOf(db, ids));
  const states = await phase('read states', async () => {
    const res = await db.query(STATES_SQL);
    return new Map<string, ScalingState>(
      res.rows.map((r) => [
        r.group_id as string,
        {
          desired: Number(r.desired),
          specGeneration: Number(r.spec_generation),
          lastScaledAt: Number(r.last_scaled_ms),
        },
      ]),
    );
  });
  const backend = await phase('list backend instances', () => backendInstances(compute, signal));
  const running = new Set([...backend.value.values()].filter((i) => i.state === 'running').map((i) => i.id));
  // As the pass does: one group at a time, its running children's samples at once (each stream
  // listening to the signal, as the pass lets them).
  setMaxListeners(SIZE.instancesPerGroup + 10, signal);
  const samples = await phase('CPU sample of every running instance', async () => {
    const means = new Map<string, number | undefined>();
    for (const g of groups.value) {
      const ids = (children.value.get(g.id) ?? [])
        .map(backendIdOf)
        .filter((id): id is string => id !== undefined && running.has(id));
      const xs = (await Promise.all(ids.map((id) => cpuPercent(compute, id, signal)))).filter(
        (v): v is number => v !== undefined,
      );
      means.set(g.id, xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
    }
    return means;
  });
  const plans = await phase('plan every group', () => {
    let changed = 0;
    for (const g of groups.value) {
      const kids = children.value.get(g.id) ?? [];
      const up = kids.filter((c) => !c.deletionRequestedAt && running.has(backendIdOf(c) ?? ''));
      const plan = planGroup(
        g,
        kids,
        states.value.get(g.id),
        { running: up.length, cpuPercent: samples.value.get(g.id) },
        Date.now(),
      );
      const previous = (g.status.outputs as { scaling?: ScalingReport } | undefined)?.scaling;
      if (
        plan.stateChanged ||
        plan.create.length > 0 ||
        plan.remove.length > 0 ||
        !isDeepStrictEqual(previous, plan.report)
      )
        changed++;
    }
    return changed;
  });
  if (plans.value !== 0) throw new Error(`autoscaling would change ${plans.value} groups`);
  return [groups.phase, children.phase, states.phase, backend.phase, samples.phase, plans.phase];
}

// ---------------------------------------------------------------------------------------------
// Part 2: event to backend call

interface EventFigures {
  /** Change committed → backend call, ms. */
  readonly toCallMs: number[];
  /** Change committed → the controller's fenced write committed, ms. */
  readonly toControllerCommitMs: number[];
  /** The controller's fenced write committed → backend call: the job path, ms. */
  readonly controllerCommitToCallMs: number[];
  /** Change committed → the pass that acted started, ms (0 when a pass in flight acted). */
  readonly toPassStartMs: number[];
  /** Changes committed while a pass of the controller was running. */
  busyAtCommit: number;
  /** Changes a pass already running at their commit acted on. */
  caughtInFlight: number;
  /** The autoscaling scenario: change committed → the new instance in its load balancer's backend. */
  readonly toServingMs: number[];
  /**
   * Changes undone before their reconcile job reached the backend: the controller's fix came
   * first, the removal's job was superseded and the backend, never changed, needed no call.
   */
  absorbed: number;
}

const emptyFigures = (): EventFigures => ({
  toCallMs: [],
  toControllerCommitMs: [],
  controllerCommitToCallMs: [],
  toPassStartMs: [],
  busyAtCommit: 0,
  caughtInFlight: 0,
  toServingMs: [],
  absorbed: 0,
});

/**
 * Records one change: committed at `committed`, its backend call at `call`; the controller's
 * write that caused the call is its first commit after the change, made by the last pass that
 * started before that commit.
 */
function attribute(figures: EventFigures, times: PassTimes, committed: number, call: Call): void {
  const commit = times.commits.find((c) => c >= committed) ?? Number.NaN;
  const started = times.starts.filter((s) => s <= commit).at(-1) ?? Number.NaN;
  const busy = times.starts.some(
    (s, i) => s < committed && (times.ends[i] ?? Number.POSITIVE_INFINITY) > committed,
  );
  figures.toCallMs.push(call.at - committed);
  figures.toControllerCommitMs.push(commit - committed);
  figures.controllerCommitToCallMs.push(call.at - commit);
  figures.toPassStartMs.push(Math.max(0, started - committed));
  if (busy) figures.busyAtCommit++;
  if (started < committed) figures.caughtInFlight++;
}

/** What the changes of part 2 are made and observed with. */
interface Rig {
  readonly db: Database;
  readonly service: ResourceService;
  readonly calls: CallLog;
  /** What went wrong meanwhile: failed passes by message, terms lost, changes never answered. */
  readonly trouble: Trouble;
}

interface Trouble {
  readonly passErrors: Map<string, number>;
  termsLost: number;
  /** Changes whose backend call did not come within EVENT_TIMEOUT_MS (counted at that value). */
  misses: number;
}

/** Until `done` holds of the resource (read every 20 ms); says so on stderr when it never does. */
async function until(rig: Rig, id: string, what: string, done: (r: Resource) => boolean): Promise<void> {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (;;) {
    const r = await loadResource(rig.db, id);
    if (r && done(r)) return;
    if (Date.now() > deadline) {
      log(`  ${id} not ${what} within ${EVENT_TIMEOUT_MS} ms: ${JSON.stringify(r?.status)}`);
      return;
    }
    await sleep(20);
  }
}

/** Until the resource's status is of its current generation (its reconcile job done). */
const settled = (rig: Rig, id: string) =>
  until(
    rig,
    id,
    'settled',
    (r) => r.status.observedGeneration === r.generation && r.status.phase === 'Ready',
  );

/** A change whose call never came: counted at the timeout, and what its resource shows. */
async function missed(rig: Rig, figures: EventFigures, id: string, what: string): Promise<void> {
  rig.trouble.misses++;
  figures.toCallMs.push(EVENT_TIMEOUT_MS);
  const r = await loadResource(rig.db, id);
  log(
    `  no ${what} within ${EVENT_TIMEOUT_MS} ms; ${id} at generation ${r?.generation}: ${JSON.stringify(r?.status.conditions)}`,
  );
}

const targetsOf = (c: Call) => c.args[1] as readonly unknown[];

/** A target removed by hand, put back by lb-sync: the change, then the call that restores it. */
async function lbSyncEvent(
  rig: Rig,
  times: PassTimes,
  group: SeededGroup,
  figures: EventFigures,
): Promise<void> {
  const lb = group.loadBalancer;
  const current = (await rig.service.get(lb.tenant, 'load-balancers', lb.id)).spec.targets as TargetSpec[];
  const drop = Math.floor(Math.random() * current.length);
  await rig.service.patch(lb.tenant, 'load-balancers', lb.id, {
    spec: { targets: current.filter((_, i) => i !== drop) },
  });
  const committed = performance.now();
  const generation = (await loadResource(rig.db, lb.id))!.generation;
  const ofLb = (c: Call) => c.op === 'updateTargets' && c.args[0] === lb.backendId;
  // Either the call restoring the target, or the fix applied with the backend never told of the
  // removal (no call for this balancer since the change): absorbed, no call to time.
  const stop = new AbortController();
  const watch = (async () => {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    while (!stop.signal.aborted && Date.now() < deadline) {
      const r = await loadResource(rig.db, lb.id);
      const targets = (r?.spec.targets as TargetSpec[] | undefined) ?? [];
      if (
        r &&
        r.generation > generation &&
        targets.length === current.length &&
        r.status.phase === 'Ready' &&
        r.status.observedGeneration === r.generation &&
        !rig.calls.calls.some((c) => c.at >= committed && ofLb(c))
      ) {
        stop.abort();
        return true;
      }
      await sleep(20);
    }
    return false;
  })();
  const call = await rig.calls.first(
    committed,
    (c) => ofLb(c) && targetsOf(c).length === current.length,
    stop.signal,
  );
  stop.abort();
  const wasAbsorbed = await watch;
  if (call) attribute(figures, times, committed, call);
  else if (wasAbsorbed) figures.absorbed++;
  else await missed(rig, figures, lb.id, 'updateTargets restoring the target');
  await settled(rig, lb.id);
}

/** A group's desired raised by one: the change, then the child's createInstance. */
async function autoscalingEvent(
  rig: Rig,
  times: PassTimes,
  group: SeededGroup,
  figures: EventFigures,
): Promise<void> {
  const spec = (await rig.service.get(group.tenant, GROUPS, group.id)).spec as unknown as GroupSpec;
  await rig.service.patch(group.tenant, GROUPS, group.id, { spec: { desired: spec.desired + 1 } });
  const committed = performance.now();
  const call = await rig.calls.first(committed, (c) => c.op === 'createInstance');
  if (!call) return missed(rig, figures, group.id, 'createInstance');
  attribute(figures, times, committed, call);
  // Then lb-sync adds the new instance once it is Ready: the group serves one more.
  const serving = await rig.calls.first(
    committed,
    (c) =>
      c.op === 'updateTargets' &&
      c.args[0] === group.loadBalancer.backendId &&
      targetsOf(c).length === spec.desired + 1,
  );
  if (serving) figures.toServingMs.push(serving.at - committed);
  else log(`  the new instance of ${group.id} was not in its load balancer within ${EVENT_TIMEOUT_MS} ms`);
  await settled(rig, group.loadBalancer.id);
  await settled(rig, group.id);
  // And the group's report counts the new instance running: autoscaling's last write for this
  // change, which must not be taken for its first write for the next one.
  await until(rig, group.id, 'reported', (r) => {
    const scaling = (r.status.outputs as { scaling?: ScalingReport } | undefined)?.scaling;
    return scaling?.running === spec.desired + 1 && scaling.instances === spec.desired + 1;
  });
}

interface Part2 {
  readonly lbSync: EventFigures;
  readonly autoscaling: EventFigures;
  readonly lbSyncPasses: number;
  readonly autoscalingPasses: number;
  readonly lbSyncPassMs: number[];
  readonly autoscalingPassMs: number[];
  /** The event loop's delay while the changes ran (its p99 and max, ms). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly trouble: Trouble;
}

async function runEvents(
  config: ReturnType<typeof loadConfig>,
  stores: Awaited<ReturnType<typeof openStores>>,
  sim: SimBackends,
  world: World,
): Promise<Part2> {
  // Warnings (a failed pass, a failed job) go to stderr: a figure measured through them says so.
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const calls = new CallLog();
  const ports = createBackends({
    memory: {
      ...sim,
      compute: calls.wrap(sim.compute, ['createInstance', 'deleteInstance', 'startInstance', 'stopInstance']),
      loadBalancer: calls.wrap(sim.loadBalancer, ['updateTargets']),
    },
  });
  const db = stores.db;
  const elector = createElector(config, stores, logger);
  const plane = createControlPlane({ db, ports, logger });
  const jobs = createJobSystem({
    config,
    stores,
    logger,
    registry: new Registry(),
    elector,
    handlers: plane.handlers,
    onDeadLetter: (info) => plane.onDeadLetter(info),
  });
  const service = createResourceService({ db, kinds: builtinRegistry() });
  const compute = { service, compute: ports.compute, ...optionsAt(config, 'compute') };
  const lbTimes: PassTimes = { starts: [], commits: [], ends: [] };
  const asTimes: PassTimes = { starts: [], commits: [], ends: [] };
  const wake = eventWake({ db });
  const trouble: Trouble = { passErrors: new Map(), termsLost: 0, misses: 0 };
  const rig: Rig = { db, service, calls, trouble };
  const guardOf = (def: ControllerDefinition, times: PassTimes) =>
    controllerGuard(timed(def, times), {
      db,
      elector,
      logger,
      wake,
      onPass: ({ error }) => {
        if (!error) return;
        const key = `${def.name}: ${error.message.slice(0, 160)}`;
        trouble.passErrors.set(key, (trouble.passErrors.get(key) ?? 0) + 1);
      },
      guard: {
        onEvent: (event) => {
          if (event.type === 'lost') trouble.termsLost++;
        },
      },
    });
  const guards = [
    guardOf(lbSyncController({ leaderKey: controlPlaneKeys.lbSync, ...compute }), lbTimes),
    guardOf(autoscalingController({ leaderKey: controlPlaneKeys.autoscaling, ...compute }), asTimes),
  ];
  const stop = new AbortController();
  const runnables: Runnable[] = [...jobs.runnables, ...guards];
  const running = runnables.map((r) =>
    r.start(stop.signal).catch((err: unknown) => log(`${r.name} failed: ${String(err)}`)),
  );
  try {
    // Both leaders elected and one pass each done.
    const deadline = Date.now() + 60_000;
    while (lbTimes.ends.length === 0 || asTimes.ends.length === 0) {
      if (Date.now() > deadline) throw new Error('the controllers did not pass within 60 s');
      await sleep(50);
    }
    const lbSync = emptyFigures();
    const autoscaling = emptyFigures();
    const firstLb = lbTimes.starts.length;
    const firstAs = asTimes.starts.length;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    // Groups and load balancers drawn at random, each once: a pass meets them in id order, so
    // where one is in that order is part of its latency.
    const drawn = shuffled(world.groups);
    for (let i = 0; i < LB_EVENTS; i++) {
      // Off the wake poll's phase (status-only changes wait for it): anywhere in its 250 ms.
      await sleep(Math.random() * 250);
      await lbSyncEvent(rig, lbTimes, drawn[i % drawn.length]!, lbSync);
      if ((i + 1) % 10 === 0) log(`  lb-sync: ${i + 1}/${LB_EVENTS} changes`);
    }
    for (let i = 0; i < AS_EVENTS; i++) {
      await sleep(Math.random() * 250);
      const group = drawn[(drawn.length - 1 - i) % drawn.length]!;
      await autoscalingEvent(rig, asTimes, group, autoscaling);
      if ((i + 1) % 5 === 0) log(`  autoscaling: ${i + 1}/${AS_EVENTS} changes`);
    }
    loop.disable();
    const durations = (t: PassTimes, from: number) =>
      t.starts.slice(from, t.ends.length).map((s, i) => t.ends[from + i]! - s);
    return {
      lbSync,
      autoscaling,
      lbSyncPasses: lbTimes.starts.length - firstLb,
      autoscalingPasses: asTimes.starts.length - firstAs,
      lbSyncPassMs: durations(lbTimes, firstLb),
      autoscalingPassMs: durations(asTimes, firstAs),
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      trouble,
    };
  } finally {
    stop.abort();
    await Promise.all(running);
    await jobs.close();
    await elector.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The run

function describePasses(name: string, f: PassFigures): void {
  const perResource = f.cpuMs.map((ms) => (ms * 1_000) / f.resources);
  say(
    `${name}: ${f.resources} resources read per pass, ${PASSES} passes after ${WARMUPS} warm-up(s) (first ${round(f.firstPassMs, 0)} ms), ${f.writes} resource writes`,
  );
  say(
    `  wall  median ${round(median(f.wallMs), 1)} ms, p90 ${round(percentile(f.wallMs, 90), 1)} ms per pass`,
  );
  say(
    `  CPU   median ${round(median(f.cpuMs), 1)} ms, p90 ${round(percentile(f.cpuMs, 90), 1)} ms per pass (this process)`,
  );
  say(
    `        median ${round(median(perResource), 2)} µs, p90 ${round(percentile(perResource, 90), 2)} µs per resource (goal ≤ ${GOAL_CPU_US_PER_RESOURCE} µs)`,
  );
  say(
    `  PostgreSQL backends: ${round(f.postgresCpuMsPerPass, 1)} ms CPU per pass, ${round((f.postgresCpuMsPerPass * 1_000) / f.resources, 2)} µs per resource (not in the figures above)`,
  );
}

function describePhases(name: string, phases: readonly Phase[]): void {
  say(
    `${name}, phase by phase (one after another; the pass runs its reads at once), median of ${PHASE_ROUNDS}:`,
  );
  for (const p of phases)
    say(
      `  ${p.name.padEnd(40)} wall ${round(p.wallMs, 1).toString().padStart(7)} ms   CPU ${round(p.cpuMs, 1).toString().padStart(7)} ms`,
    );
}

function describeEvents(name: string, f: EventFigures, call: string): void {
  const line = (what: string, xs: readonly number[]) =>
    say(
      `  ${what.padEnd(34)} p50 ${round(median(xs), 1)} ms, p99 ${round(percentile(xs, 99), 1)} ms, max ${round(Math.max(...xs), 1)} ms`,
    );
  say(
    `${name}: ${f.toCallMs.length + f.absorbed} changes, ${f.busyAtCommit} committed while a pass ran, ${f.caughtInFlight} acted on by that pass` +
      (f.absorbed > 0 ? `, ${f.absorbed} undone before the backend saw them (no call to time)` : ''),
  );
  line('commit → acting pass started', f.toPassStartMs);
  line('commit → controller committed', f.toControllerCommitMs);
  line(`controller committed → ${call}`, f.controllerCommitToCallMs);
  line(`commit → ${call}`, f.toCallMs);
  if (f.toServingMs.length > 0) line('commit → new instance in the LB', f.toServingMs);
}

async function main(): Promise<void> {
  const started = performance.now();
  const t = await createTestDatabase();
  const config = loadConfig({ env: { DATABASE_URL: t.url, ROLE: 'worker', NODE_ID: 'bench-controllers' } });
  const stores = await openStores(config, pino({ level: 'silent' }));
  log(`database ${t.name}`);
  const postgres = new PostgresSide(t.name);
  await postgres.open();
  let closed = false;
  try {
    await applyMigrations(stores.db);
    const db = stores.db;
    const sim = createSimBackends();
    log(
      `seeding ${SIZE.groups} groups of ${SIZE.instancesPerGroup} instances and ${SIZE.loadBalancers} load balancers…`,
    );
    const seedStarted = performance.now();
    const world = await seedWorld(db, sim, SIZE);
    const seedMs = performance.now() - seedStarted;
    const instances = SIZE.groups * SIZE.instancesPerGroup;
    say(
      `world: ${world.resources} resources (${instances} instances, ${SIZE.groups} groups, ${SIZE.loadBalancers} load balancers, ${SIZE.tenants} networks), ${instances} running backend instances; seeded in ${round(seedMs / 1_000, 1)} s`,
    );

    // Part 1: the passes, called directly under an in-process term.
    const ports = createBackends({ memory: sim });
    const service = createResourceService({ db, kinds: builtinRegistry() });
    const elector = new MemoryElector('bench', new MemoryLeadership(), db);
    const ctxOf = async (def: ControllerDefinition): Promise<PassContext> => {
      const term = await elector.campaign(def.leaderKey, new AbortController().signal);
      return {
        signal: term.signal,
        term,
        epoch: term.epoch,
        now: Date.now,
        db,
        fenced: (fn) => fencedTransaction(db, term, fn),
      };
    };
    const deps = { service, compute: ports.compute };
    const lbSync = lbSyncController({ leaderKey: controlPlaneKeys.lbSync, ...deps });
    const autoscaling = autoscalingController({ leaderKey: controlPlaneKeys.autoscaling, ...deps });
    log(`part 1: passes over the unchanged world (${round((performance.now() - started) / 1_000, 0)} s in)…`);
    // Autoscaling first: its first pass records the groups' state and report, which lb-sync
    // does not read, and leaves the world unchanged for both.
    const asFigures = await measurePasses(
      autoscaling,
      await ctxOf(autoscaling),
      SIZE.groups + instances,
      postgres,
    );
    const lbFigures = await measurePasses(
      lbSync,
      await ctxOf(lbSync),
      SIZE.groups + instances + SIZE.loadBalancers,
      postgres,
    );
    const lbPhases = await lbSyncPhases(db, ports.compute);
    const asPhases = await autoscalingPhases(db, ports.compute);
    await elector.close();
    say('');
    describePasses('lb-sync', lbFigures);
    describePasses('autoscaling', asFigures);
    say('');
    describePhases('lb-sync', lbPhases);
    describePhases('autoscaling', asPhases);

    log(`part 2: event to backend call (${round((performance.now() - started) / 1_000, 0)} s in)…`);
    const events = await runEvents(config, stores, sim, world);
    say('');
    describeEvents('lb-sync (a target removed by hand, put back)', events.lbSync, 'updateTargets');
    describeEvents('autoscaling (desired + 1)', events.autoscaling, 'createInstance');
    say(
      `  passes meanwhile: lb-sync ${events.lbSyncPasses} (median ${round(median(events.lbSyncPassMs), 1)} ms), autoscaling ${events.autoscalingPasses} (median ${round(median(events.autoscalingPassMs), 1)} ms)`,
    );
    say(
      `  event-loop delay meanwhile: p99 ${round(events.loopDelayP99Ms, 1)} ms, max ${round(events.loopDelayMaxMs, 1)} ms (the relay, the worker and both controllers share this process)`,
    );
    const { trouble } = events;
    const passErrors = [...trouble.passErrors.values()].reduce((a, b) => a + b, 0);
    say(
      `  meanwhile: ${trouble.termsLost} terms lost, ${passErrors} failed passes, ${trouble.misses} changes with no call within ${EVENT_TIMEOUT_MS / 1_000} s (counted at ${EVENT_TIMEOUT_MS / 1_000} s)`,
    );
    for (const [message, n] of trouble.passErrors) say(`    ${n} × ${message}`);

    await stores.close();
    closed = true;
    // A session's counters reach pg_stat_database when it ends.
    await sleep(1_000);
    const sessionsEnded = await postgres.sessionsEndedByServer();
    say(
      `  sessions the server ended (idle timeouts of lock sessions and fenced transactions): ${sessionsEnded}`,
    );

    const perResource = (f: PassFigures, p: number) =>
      round(percentile(f.cpuMs, p) * (1_000 / f.resources), 2);
    const allCalls = [...events.lbSync.toCallMs, ...events.autoscaling.toCallMs];
    const figures = {
      lbSyncCpuUsPerResource: perResource(lbFigures, 50),
      lbSyncCpuUsPerResourceP90: perResource(lbFigures, 90),
      autoscalingCpuUsPerResource: perResource(asFigures, 50),
      autoscalingCpuUsPerResourceP90: perResource(asFigures, 90),
      lbSyncResources: lbFigures.resources,
      autoscalingResources: asFigures.resources,
      lbSyncPassWallMsMedian: round(median(lbFigures.wallMs), 1),
      lbSyncPassWallMsP90: round(percentile(lbFigures.wallMs, 90), 1),
      lbSyncPassCpuMsMedian: round(median(lbFigures.cpuMs), 1),
      autoscalingPassWallMsMedian: round(median(asFigures.wallMs), 1),
      autoscalingPassWallMsP90: round(percentile(asFigures.wallMs, 90), 1),
      autoscalingPassCpuMsMedian: round(median(asFigures.cpuMs), 1),
      autoscalingFirstPassMs: round(asFigures.firstPassMs, 0),
      lbSyncPostgresCpuMsPerPass: round(lbFigures.postgresCpuMsPerPass, 1),
      autoscalingPostgresCpuMsPerPass: round(asFigures.postgresCpuMsPerPass, 1),
      unchangedPassWrites: lbFigures.writes + asFigures.writes,
      lbSyncPhases: Object.fromEntries(lbPhases.map((p) => [p.name, round(p.cpuMs, 1)])),
      autoscalingPhases: Object.fromEntries(asPhases.map((p) => [p.name, round(p.cpuMs, 1)])),
      lbSyncAbsorbed: events.lbSync.absorbed,
      lbSyncEventToCallP50Ms: round(median(events.lbSync.toCallMs), 1),
      lbSyncEventToCallP99Ms: round(percentile(events.lbSync.toCallMs, 99), 1),
      lbSyncEventToCallMaxMs: round(Math.max(...events.lbSync.toCallMs), 1),
      lbSyncEventToPassStartP50Ms: round(median(events.lbSync.toPassStartMs), 1),
      lbSyncEventToControllerCommitP50Ms: round(median(events.lbSync.toControllerCommitMs), 1),
      lbSyncControllerCommitToCallP50Ms: round(median(events.lbSync.controllerCommitToCallMs), 1),
      autoscalingEventToCallP50Ms: round(median(events.autoscaling.toCallMs), 1),
      autoscalingEventToCallP99Ms: round(percentile(events.autoscaling.toCallMs, 99), 1),
      autoscalingEventToCallMaxMs: round(Math.max(...events.autoscaling.toCallMs), 1),
      autoscalingEventToPassStartP50Ms: round(median(events.autoscaling.toPassStartMs), 1),
      autoscalingEventToControllerCommitP50Ms: round(median(events.autoscaling.toControllerCommitMs), 1),
      autoscalingControllerCommitToCallP50Ms: round(median(events.autoscaling.controllerCommitToCallMs), 1),
      autoscalingEventToServingP50Ms: round(median(events.autoscaling.toServingMs), 1),
      autoscalingEventToServingP99Ms: round(percentile(events.autoscaling.toServingMs, 99), 1),
      eventToCallP50Ms: round(median(allCalls), 1),
      eventToCallP99Ms: round(percentile(allCalls, 99), 1),
      eventToCallMaxMs: round(Math.max(...allCalls), 1),
      events: allCalls.length,
      lbSyncPassesDuringEvents: events.lbSyncPasses,
      lbSyncPassWallMsDuringEvents: round(median(events.lbSyncPassMs), 1),
      autoscalingPassesDuringEvents: events.autoscalingPasses,
      autoscalingPassWallMsDuringEvents: round(median(events.autoscalingPassMs), 1),
      eventLoopDelayP99Ms: round(events.loopDelayP99Ms, 1),
      eventLoopDelayMaxMs: round(events.loopDelayMaxMs, 1),
      termsLostDuringEvents: events.trouble.termsLost,
      failedPassesDuringEvents: [...events.trouble.passErrors.values()].reduce((a, b) => a + b, 0),
      eventsWithoutCall: events.trouble.misses,
      sessionsEndedByServer: sessionsEnded,
      goalCpuUsPerResource: GOAL_CPU_US_PER_RESOURCE,
      goalEventP99Ms: GOAL_EVENT_P99_MS,
      cpuGoalMet:
        perResource(lbFigures, 50) <= GOAL_CPU_US_PER_RESOURCE &&
        perResource(asFigures, 50) <= GOAL_CPU_US_PER_RESOURCE,
      eventGoalMet: percentile(allCalls, 99) < GOAL_EVENT_P99_MS,
      seedS: round(seedMs / 1_000, 1),
      runS: round((performance.now() - started) / 1_000, 1),
      quick,
    };
    say('');
    say(
      `goals: CPU per unchanged resource ≤ ${GOAL_CPU_US_PER_RESOURCE} µs: ${figures.cpuGoalMet ? 'met' : 'NOT met'} (lb-sync ${figures.lbSyncCpuUsPerResource}, autoscaling ${figures.autoscalingCpuUsPerResource}); event to backend call p99 < ${GOAL_EVENT_P99_MS} ms: ${figures.eventGoalMet ? 'met' : 'NOT met'} (${figures.eventToCallP99Ms} ms)`,
    );
    say(JSON.stringify(figures));
  } finally {
    await postgres.close();
    if (!closed) await stores.close();
    await t.drop();
  }
}

await main();
