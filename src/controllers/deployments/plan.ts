// What one pass does to one deployment, from what it read: pure, so the rollout rules are tested
// without a database.
//
// Every replica is a child instance named `<prefix>-<revision>-<slot>`: the revision is a hash
// of what a replica is made from (image, size, subnet, restart), the slot its place among
// `replicas`. A successor after a failover computes the same names, so it never creates a
// replica twice (a second create of a name is refused by the store). A replica of another
// revision, or in a slot at or above `replicas`, is old: it goes once enough replicas run
// without it. New replicas are created while the live ones stay within `replicas + maxSurge`;
// old ones are deleted, those not running first, while at least `replicas - maxUnavailable`
// would still run. A Failed replica is deleted, and its slot filled again once it is gone.

import { createHash } from 'node:crypto';
import type { Resource } from '../../core/resources/resource.js';

/** A deployment's spec as the controller reads it. */
export interface DeploymentSpec {
  readonly image: string;
  readonly replicas: number;
  readonly instanceType: string;
  readonly network: string;
  readonly subnet?: string;
  readonly strategy?: { readonly maxSurge: number; readonly maxUnavailable: number };
  readonly restartedAt?: string;
}

/** The report a deployment's status carries (`outputs.rollout`). */
export interface RolloutReport {
  readonly phase: 'ready' | 'scaling' | 'updating' | 'degraded';
  readonly reason: string;
  readonly revision: string;
  readonly replicas: number;
  readonly updated: number;
  readonly ready: number;
  readonly available: number;
}

/** One pass's plan for one deployment. */
export interface DeploymentPlan {
  /** Names to create, lowest slot first. */
  readonly create: readonly string[];
  /** Children to delete. */
  readonly remove: readonly Resource[];
  readonly report: RolloutReport;
}

/** The revision of what replicas are made from: 6 hex characters. */
export function revisionOf(spec: DeploymentSpec): string {
  const made = [spec.image, spec.instanceType, spec.subnet ?? '', spec.restartedAt ?? ''].join('\n');
  return createHash('sha256').update(made).digest('hex').slice(0, 6);
}

/**
 * The first part of the replicas' names: the deployment's name, or, past 48 characters, its
 * first 41 and a hash of all of it, so that a replica's name stays a DNS label.
 */
export function replicaPrefix(name: string): string {
  if (name.length <= 48) return name;
  return `${name.slice(0, 41).replace(/-+$/, '')}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
}

/** The name of the replica in `slot` of `revision`. */
export function replicaName(prefix: string, revision: string, slot: number): string {
  return `${prefix}-${revision}-${slot}`;
}

/** The revision and slot a replica's name says, or undefined for a name not of this deployment. */
export function parseReplica(prefix: string, name: string): { revision: string; slot: number } | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const m = /^([0-9a-f]{6})-(0|[1-9][0-9]{0,2})$/.exec(name.slice(prefix.length + 1));
  return m ? { revision: m[1]!, slot: Number(m[2]) } : undefined;
}

/**
 * The plan of one deployment: `children` are its instances (those being deleted included),
 * `running` the backend ids of instances running now.
 */
export function planDeployment(
  deployment: Resource,
  children: readonly Resource[],
  running: ReadonlySet<string>,
): DeploymentPlan {
  const spec = deployment.spec as unknown as DeploymentSpec;
  const n = spec.replicas;
  const surge = spec.strategy?.maxSurge ?? 1;
  const unavailable = spec.strategy?.maxUnavailable ?? 0;
  const revision = revisionOf(spec);
  const prefix = replicaPrefix(deployment.name);
  const isRunning = (c: Resource) => {
    const id = (c.status.outputs as { backendId?: unknown } | undefined)?.backendId;
    return typeof id === 'string' && running.has(id);
  };
  const taken = new Set(children.map((c) => c.name));
  const live = children.filter((c) => !c.deletionRequestedAt);
  const failed = live.filter((c) => c.status.phase === 'Failed');
  const healthy = live.filter((c) => c.status.phase !== 'Failed');
  const current = new Map<number, Resource>();
  const old: Resource[] = [];
  for (const c of healthy) {
    const at = parseReplica(prefix, c.name);
    if (at && at.revision === revision && at.slot < n && !current.has(at.slot)) current.set(at.slot, c);
    else old.push(c);
  }
  // New replicas, lowest slot first, within replicas + maxSurge live ones (Failed ones are on
  // their way out and count for nothing).
  const create: string[] = [];
  let room = n + surge - healthy.length;
  for (let slot = 0; slot < n && room > 0; slot++) {
    const name = replicaName(prefix, revision, slot);
    if (current.has(slot) || taken.has(name)) continue;
    create.push(name);
    room--;
  }
  // Old replicas: the ones not running cost nothing; a running one goes while enough others
  // run. Highest slot first within each, so a scale-in keeps the low slots.
  const order = (c: Resource) => parseReplica(prefix, c.name)?.slot ?? Number.POSITIVE_INFINITY;
  const byStopped = [...old].sort(
    (a, b) => Number(isRunning(a)) - Number(isRunning(b)) || order(b) - order(a),
  );
  let available = live.filter(isRunning).length;
  const remove: Resource[] = [...failed];
  for (const c of byStopped) {
    if (!isRunning(c)) {
      remove.push(c);
      continue;
    }
    if (available - 1 < n - unavailable) break;
    remove.push(c);
    available--;
  }
  const ready = [...current.values()].filter(isRunning).length;
  const outdated = old.filter((c) => parseReplica(prefix, c.name)?.revision !== revision).length;
  const report: RolloutReport = {
    ...phaseOf({
      n,
      ready,
      updated: current.size,
      outdated,
      surplus: old.length - outdated,
      failed: failed.length,
    }),
    revision,
    replicas: n,
    updated: current.size,
    ready,
    available: live.filter(isRunning).length,
  };
  return { create, remove, report };
}

/** The phase and its reason, from the counts of one deployment's replicas. */
function phaseOf(c: {
  n: number;
  ready: number;
  updated: number;
  outdated: number;
  surplus: number;
  failed: number;
}): { phase: RolloutReport['phase']; reason: string } {
  if (c.failed > 0) return { phase: 'degraded', reason: `${c.failed} replicas failed: replacing them` };
  if (c.outdated > 0)
    return { phase: 'updating', reason: `${c.updated} of ${c.n} replicas on the new revision` };
  if (c.ready === c.n && c.surplus === 0) return { phase: 'ready', reason: `${c.n} replicas running` };
  return { phase: 'scaling', reason: `${c.ready} of ${c.n} replicas running` };
}

/** One look at a deployment's replicas during a rollout (tests and drills take them). */
export interface RolloutSample {
  /** Replicas not being deleted and not Failed. */
  readonly live: number;
  /** Replicas running in the backend. */
  readonly running: number;
}

/**
 * The samples that break a rollout's bounds: more than `replicas + maxSurge` live replicas, or
 * (once `replicas` had run) fewer than `replicas - maxUnavailable` running. Empty: none.
 */
export function rolloutViolations(
  samples: readonly RolloutSample[],
  bounds: { readonly replicas: number; readonly maxSurge: number; readonly maxUnavailable: number },
): string[] {
  const out: string[] = [];
  let reached = false;
  samples.forEach((s, i) => {
    if (s.live > bounds.replicas + bounds.maxSurge)
      out.push(`sample ${i}: ${s.live} live replicas, above ${bounds.replicas} + ${bounds.maxSurge}`);
    if (reached && s.running < bounds.replicas - bounds.maxUnavailable)
      out.push(`sample ${i}: ${s.running} running, below ${bounds.replicas} - ${bounds.maxUnavailable}`);
    reached ||= s.running >= bounds.replicas;
  });
  return out;
}
