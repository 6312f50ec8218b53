// Runs the faults of a drill on its clock: each step starts at its time, whatever the others
// are doing, with two limits that keep a run a test of single failures (DESIGN.md §1: "the
// loss of any single replica"): one fault at a time per replica, and never every replica of a
// role down at once (with two api replicas, one is always serving). A step whose target is
// busy waits for it; the record's startT is when it was injected, not when it was due.
//
// For the api replicas "one is serving" is HAProxy's to say, not the replicas': a restarted
// replica is ready seconds before HAProxy has counted the 2 passing checks that put it back
// UP, and a fault on the other one meanwhile leaves no api at all (the 640 HAProxy 503s of
// the long run before this rule). So a fault on an api replica starts only when HAProxy shows
// another api replica, in no fault, UP; until then it is deferred (its record says how long),
// and after DEFER_MAX_MS it is skipped (kept in the evidence's faultErrors, `skipped`). Its
// end waits for HAProxy to show the replica UP again (inject.ts).

import type { ProcessGroup, Replica } from '../cluster/group.js';
import { type BalancerView, isServing, untilServers } from '../cluster/haproxy-stats.js';
import type { DrillTime, FaultRecord, FaultStep, Scenario } from '../evidence.js';
import { type FaultContext, injectFault } from './inject.js';
import { currentLeader } from './leaders.js';
import { pick } from './random.js';

/** A step of a drill's timeline: a scenario's step, shifted to its place in the run. */
export interface TimedStep {
  readonly scenario: string;
  readonly step: FaultStep;
}

/**
 * The timeline of `scenarios` over `durationMs`: each gets an equal window, in order, and its
 * steps run at their `at` within it; a chaos scenario fills its window with a step every
 * `everyMs`, drawn from the steps of `pool` (the shipped scenarios).
 */
export function timeline(
  scenarios: readonly Scenario[],
  durationMs: number,
  random: () => number,
  pool: readonly FaultStep[],
): TimedStep[] {
  const window = durationMs / Math.max(1, scenarios.length);
  const out: TimedStep[] = [];
  scenarios.forEach((s, i) => {
    const from = Math.round(i * window);
    if (s.chaos) {
      // A rolling restart takes every replica for tens of seconds and runs alone: drawn like
      // the others it would fill the run, so it comes once every 100 steps (the 50th, 150th...).
      const rolling = pool.filter((p) => p.action === 'rolling-restart');
      const others = pool.filter((p) => p.action !== 'rolling-restart');
      let k = 0;
      for (let at = s.chaos.everyMs; at < window - s.chaos.everyMs / 2; at += s.chaos.everyMs, k++) {
        const shape = rolling.length > 0 && k % 100 === 50 ? pick(rolling, random) : pick(others, random);
        out.push({ scenario: s.name, step: { ...shape, atMs: from + at } });
      }
      return;
    }
    for (const step of s.steps) out.push({ scenario: s.name, step: { ...step, atMs: from + step.atMs } });
  });
  return out.sort((a, b) => a.step.atMs - b.step.atMs);
}

/** The replicas a step may touch, as far as can be known before it runs. */
function candidates(group: ProcessGroup, step: FaultStep): readonly Replica[] | 'leader' | 'none' {
  const t = step.target;
  if (step.action === 'rolling-restart')
    return t === 'all' ? group.replicas : group.replicas.filter((r) => r.role === t);
  if (t.startsWith('leader:')) return 'leader';
  if (t === 'api' || t === 'worker') return group.replicas.filter((r) => r.role === t);
  const named = group.replicas.filter((r) => r.name === t);
  return named.length > 0 ? named : 'none';
}

/** The replica locks of {@link runFaults}. */
export class Occupancy {
  readonly #busy = new Set<string>();
  readonly #waiters: Array<() => void> = [];

  constructor(private readonly group: Pick<ProcessGroup, 'replicas'>) {}

  #fits(names: readonly string[], exclusive: boolean): boolean {
    if (names.some((n) => this.#busy.has(n))) return false;
    // A rolling restart takes its replicas one at a time itself, and runs alone.
    if (exclusive) return this.#busy.size === 0;
    for (const role of ['api', 'worker'] as const) {
      const all = this.group.replicas.filter((r) => r.role === role);
      const down = all.filter((r) => this.#busy.has(r.name) || names.includes(r.name)).length;
      if (all.length > 1 && down >= all.length) return false;
    }
    return true;
  }

  /** Waits until one of `options` (sets of replica names) fits, takes it, returns it. */
  async take(
    options: ReadonlyArray<readonly string[]>,
    random: () => number,
    exclusive = false,
  ): Promise<readonly string[]> {
    for (;;) {
      const fitting = options.filter((o) => this.#fits(o, exclusive));
      if (fitting.length > 0) {
        const chosen = pick(fitting, random);
        for (const n of chosen) this.#busy.add(n);
        return chosen;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Whether `name` is in a fault now. */
  isBusy(name: string): boolean {
    return this.#busy.has(name);
  }

  release(names: readonly string[]): void {
    for (const n of names) this.#busy.delete(n);
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** What {@link runFaults} needs besides the timeline. */
export interface FaultRunOptions {
  readonly group: ProcessGroup;
  readonly random: () => number;
  now(): DrillTime;
  /** Called with every record as soon as its fault is over. */
  readonly onRecord: (record: FaultRecord) => void;
  /** A fault that could not be injected (the drill goes on; the report shows it). */
  readonly onError: (step: TimedStep, err: Error) => void;
  readonly progress?: (line: string) => void;
  /** Aborted when the load ends: steps not yet started are skipped. */
  readonly signal: AbortSignal;
  /** A step skipped: its api replicas' partner was never UP in HAProxy within DEFER_MAX_MS. */
  readonly onSkipped?: (step: TimedStep, reason: string) => void;
  /** HAProxy's view of the api replicas; default the group's. */
  readonly balancer?: BalancerView;
  /** Injects one step; default {@link injectFault} (tests pass their own). */
  readonly inject?: typeof injectFault;
  /** How long a step on an api replica may be deferred before it is skipped. */
  readonly deferMaxMs?: number;
}

/** How long a step on an api replica waits for another to be UP in HAProxy before it is skipped. */
export const DEFER_MAX_MS = 60_000;

/**
 * Whether taking `held` leaves an api replica serving: one outside `held`, in no fault, UP in
 * HAProxy. A rolling restart holds every replica and restarts one at a time, so it needs every
 * api replica UP to begin with. Always true with a single api replica (nothing to keep).
 */
function apiKept(
  group: Pick<ProcessGroup, 'replicas'>,
  occupancy: Occupancy,
  held: readonly string[],
  rolling: boolean,
  states: ReadonlyMap<string, string>,
): boolean {
  const apis = group.replicas.filter((r) => r.role === 'api').map((r) => r.name);
  if (apis.length < 2 || !held.some((n) => apis.includes(n))) return true;
  if (rolling) return apis.every((n) => isServing(states.get(n)));
  return apis.some((n) => !held.includes(n) && !occupancy.isBusy(n) && isServing(states.get(n)));
}

/** Runs every step at its time; resolves once every started fault is over. */
export async function runFaults(steps: readonly TimedStep[], o: FaultRunOptions): Promise<void> {
  const occupancy = new Occupancy(o.group);
  const running: Promise<void>[] = [];
  for (const timed of steps) {
    const wait = timed.step.atMs - o.now();
    if (wait > 0) {
      const aborted = await new Promise<boolean>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          o.signal.removeEventListener('abort', onAbort);
          resolve(false);
        }, wait);
        o.signal.addEventListener('abort', onAbort, { once: true });
      });
      if (aborted) break;
    }
    if (o.signal.aborted) break;
    running.push(runOne(timed, o, occupancy));
  }
  await Promise.all(running);
}

async function runOne(timed: TimedStep, o: FaultRunOptions, occupancy: Occupancy): Promise<void> {
  const { step } = timed;
  const ctx: FaultContext = {
    group: o.group,
    scenario: timed.scenario,
    random: o.random,
    now: o.now,
    ...(o.progress ? { progress: o.progress } : {}),
  };
  const c = candidates(o.group, step);
  let held: readonly string[] = [];
  let deferredMs: number | undefined;
  try {
    let resolvedStep = step;
    let leaderKey: string | undefined;
    if (c === 'leader') {
      // Whoever leads when the step runs, locked like any replica; asked again once locked, since
      // leadership may have moved while the step waited.
      leaderKey = step.target.slice('leader:'.length);
      const operator = o.group.tenants[0]!.key;
      for (;;) {
        const holder = await currentLeader(o.group.apiUrl, operator, leaderKey, 30_000);
        held = await occupancy.take([[holder]], o.random);
        if ((await currentLeader(o.group.apiUrl, operator, leaderKey, 30_000)) === holder) break;
        occupancy.release(held);
        held = [];
      }
      resolvedStep = { ...step, target: held[0]! };
    } else if (c !== 'none') {
      const rolling = step.action === 'rolling-restart';
      const balancer = o.balancer ?? o.group.balancer;
      const deferMaxMs = o.deferMaxMs ?? DEFER_MAX_MS;
      const options = rolling ? [c.map((r) => r.name)] : c.map((r) => [r.name]);
      const keeping = (states: ReadonlyMap<string, string>) =>
        options.filter((names) => apiKept(o.group, occupancy, names, rolling, states));
      const since = Date.now();
      let deferred = false;
      for (;;) {
        let states = await balancer.serverStates().catch(() => new Map<string, string>());
        const fitting = keeping(states);
        if (fitting.length > 0) {
          held = await occupancy.take(fitting, o.random, rolling);
          // Asked again under the lock: the view may have changed while the lock was awaited.
          states = await balancer.serverStates().catch(() => new Map<string, string>());
          if (apiKept(o.group, occupancy, held, rolling, states)) break;
          occupancy.release(held);
          held = [];
        }
        // No other api UP in HAProxy: wait for one (a fault elsewhere may go on), or give up.
        deferred = true;
        const left = deferMaxMs - (Date.now() - since);
        const waited =
          left > 0 ? await untilServers(balancer, (view) => keeping(view).length > 0, left) : undefined;
        if (waited === undefined) {
          o.onSkipped?.(timed, `no other api replica UP in HAProxy within ${deferMaxMs} ms`);
          return;
        }
      }
      if (deferred) deferredMs = Date.now() - since;
      // A role target becomes the replica the lock chose.
      if (!rolling && (step.target === 'api' || step.target === 'worker'))
        resolvedStep = { ...step, target: held[0]! };
    }
    // The load ended (or the drill was interrupted) while this step waited for its replicas: a
    // step that has not begun is skipped, not injected into a cluster being stopped.
    if (o.signal.aborted) return;
    const record = await (o.inject ?? injectFault)(ctx, resolvedStep);
    o.onRecord({
      ...record,
      target: step.target,
      ...(leaderKey === undefined ? {} : { leaderKey }),
      ...(deferredMs === undefined ? {} : { deferredMs }),
    });
  } catch (err) {
    o.onError(timed, err instanceof Error ? err : new Error(String(err)));
  } finally {
    occupancy.release(held);
  }
}
