// The simulated cloud's behaviour as data, in the manner of kwok's stages: which stage
// follows which, after what delay, for which resources; the instance-type catalogue; the
// zones' capacity and the tenants' quotas; the load model of the stats samples. A profile
// is a JSON document a drill can load, print and diff.

import { INSTANCE_TYPES as CATALOGUE } from '../../core/catalogue/instance-types.js';
import type { InstanceState } from '../../core/ports/compute.js';
import { type Delay, delayProblem } from './delay.js';

/** One lifecycle transition: resources of `kind` in stage `from` move to `to` after `delay`. */
export interface StageRule {
  /** Name, for listings. */
  readonly name: string;
  /** Kind of resource it applies to (only instances have stages today). */
  readonly kind: 'instance';
  /** Only resources whose labels include all of these; default every resource. */
  readonly selector?: { readonly labels?: Readonly<Record<string, string>> };
  /** The stage it leaves. */
  readonly from: InstanceState;
  /** The stage it enters. */
  readonly to: InstanceState;
  /** How long `from` lasts. */
  readonly delay: Delay;
}

/** An instance type of the catalogue. */
export interface InstanceType {
  /** Virtual CPUs, counted against the zone's capacity. */
  readonly vcpus: number;
  /** Memory, MiB. */
  readonly memoryMiB: number;
}

/** How busy running instances look in their stats samples. */
export interface LoadModel {
  /** Mean CPU use in [0, 1]. */
  readonly cpuMean: number;
  /** Amplitude of the daily-like wave around the mean. */
  readonly cpuAmplitude: number;
  /** Period of the wave, ms. */
  readonly periodMs: number;
  /** Share of the type's memory in use, in [0, 1]. */
  readonly memoryShare: number;
  /** Replication lag of replicas (label `role=replica`). */
  readonly replicaLag: Delay;
}

/** A whole behaviour profile. */
export interface Profile {
  /** Name, e.g. `fast`. */
  readonly name: string;
  /** Lifecycle transitions, first match wins. */
  readonly stages: readonly StageRule[];
  /** Instance types by size name. */
  readonly instanceTypes: Readonly<Record<string, InstanceType>>;
  /** vCPU capacity per zone; the first zone is the default placement. */
  readonly zones: Readonly<Record<string, { readonly vcpus: number }>>;
  /** Most instances one tenant may hold (not counting terminated ones). */
  readonly instanceQuotaPerTenant: number;
  /** Load model of the stats. */
  readonly load: LoadModel;
  /** Instance crashes per instance-hour of running (0: only explicit crashes). */
  readonly crashesPerHour: number;
}

const STATES: readonly InstanceState[] = [
  'pending',
  'provisioning',
  'booting',
  'running',
  'stopping',
  'stopped',
  'terminating',
  'terminated',
];

// The control plane's catalogue (src/core), so the kind and the cloud agree on every size.
const INSTANCE_TYPES: Profile['instanceTypes'] = Object.fromEntries(
  CATALOGUE.map((t) => [t.name, { vcpus: t.vcpus, memoryMiB: t.memoryMiB }]),
);

function stages(delays: Readonly<Record<string, Delay>>): StageRule[] {
  const path: [InstanceState, InstanceState][] = [
    ['pending', 'provisioning'],
    ['provisioning', 'booting'],
    ['booting', 'running'],
    ['stopping', 'stopped'],
    ['terminating', 'terminated'],
  ];
  return path.map(([from, to]) => ({
    name: `${from}-${to}`,
    kind: 'instance',
    from,
    to,
    delay: delays[from]!,
  }));
}

/** Zero delays, room for a benchmark's worth of instances: for tests. */
export const FAST_PROFILE: Profile = {
  name: 'fast',
  stages: stages({
    pending: { kind: 'fixed', ms: 0 },
    provisioning: { kind: 'fixed', ms: 0 },
    booting: { kind: 'fixed', ms: 0 },
    stopping: { kind: 'fixed', ms: 0 },
    terminating: { kind: 'fixed', ms: 0 },
  }),
  instanceTypes: INSTANCE_TYPES,
  zones: { 'zone-a': { vcpus: 1_000_000 }, 'zone-b': { vcpus: 1_000_000 } },
  instanceQuotaPerTenant: 1_000_000,
  load: {
    cpuMean: 0.3,
    cpuAmplitude: 0.2,
    periodMs: 60_000,
    memoryShare: 0.5,
    replicaLag: { kind: 'fixed', ms: 0 },
  },
  crashesPerHour: 0,
};

/**
 * Close to a small real cloud: an instance boots in 2–8 s (0.5–1.5 s queued, 1–3 s
 * provisioned, 0.5–3.5 s booting), stops and terminates in 1–3 s; two zones of 512 vCPUs;
 * 100 instances per tenant; replicas lag about 50 ms.
 */
export const DEFAULT_PROFILE: Profile = {
  ...FAST_PROFILE,
  name: 'default',
  stages: stages({
    pending: { kind: 'uniform', minMs: 500, maxMs: 1_500 },
    provisioning: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
    booting: { kind: 'uniform', minMs: 500, maxMs: 3_500 },
    stopping: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
    terminating: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
  }),
  zones: { 'zone-a': { vcpus: 512 }, 'zone-b': { vcpus: 512 } },
  instanceQuotaPerTenant: 100,
  load: { ...FAST_PROFILE.load, replicaLag: { kind: 'normal', meanMs: 50, jitterMs: 20 } },
};

/** The built-in profiles by name. */
export const PROFILES: Readonly<Record<string, Profile>> = { fast: FAST_PROFILE, default: DEFAULT_PROFILE };

/** A profile document that does not hold; `field` names the offending path. */
export class ProfileError extends Error {
  readonly code = 'SIM_PROFILE_INVALID';
  override readonly name = 'ProfileError';
  /** @param field path of the bad field, e.g. `stages[2].delay.ms` */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** True for a {@link ProfileError}. */
export function isProfileError(error: unknown): error is ProfileError {
  return (error as { code?: unknown } | null)?.code === 'SIM_PROFILE_INVALID';
}

/**
 * Validates a profile document. Fields left out are taken from the `default` profile, so
 * a file may say only what it changes (e.g. its stages).
 */
export function parseProfile(document: unknown): Profile {
  const doc = document as Partial<Record<keyof Profile, unknown>> | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ProfileError('', 'a profile must be a JSON object');
  const fail = (field: string, message: string): never => {
    throw new ProfileError(field, `${field} ${message}`);
  };
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  // A misspelt field would otherwise be dropped silently and the default used instead.
  const onlyKnown = (value: Record<string, unknown>, known: readonly string[], at: string) => {
    const extra = Object.keys(value).find((key) => !known.includes(key));
    if (extra !== undefined) fail(`${at}${extra}`, 'is not a known field');
  };
  onlyKnown(doc, Object.keys(DEFAULT_PROFILE), '');
  if (doc.load !== undefined && !isObject(doc.load)) fail('load', 'must be an object');
  // The load model, like the profile, may give only what it changes.
  const load = { ...DEFAULT_PROFILE.load, ...(doc.load as object | undefined) } as LoadModel;
  const profile = { ...DEFAULT_PROFILE, ...doc, load } as Profile;
  if (typeof profile.name !== 'string' || profile.name === '') fail('name', 'must be a non-empty string');
  onlyKnown(load as unknown as Record<string, unknown>, Object.keys(DEFAULT_PROFILE.load), 'load.');
  for (const key of ['cpuMean', 'cpuAmplitude', 'memoryShare'] as const) {
    if (!(typeof load[key] === 'number' && load[key] >= 0 && load[key] <= 1))
      fail(`load.${key}`, 'must be a number from 0 to 1');
  }
  if (!(typeof load.periodMs === 'number' && load.periodMs > 0))
    fail('load.periodMs', 'must be a number > 0');
  const lag = delayProblem(load.replicaLag, 'load.replicaLag');
  if (lag !== undefined) throw new ProfileError(lag.split(' ')[0]!, lag);
  if (!Array.isArray(profile.stages)) fail('stages', 'must be an array');
  profile.stages.forEach((rule, i) => {
    const at = `stages[${i}]`;
    if (!isObject(rule)) fail(at, 'must be an object');
    onlyKnown(
      rule as unknown as Record<string, unknown>,
      ['name', 'kind', 'selector', 'from', 'to', 'delay'],
      `${at}.`,
    );
    if (rule.selector !== undefined) {
      if (!isObject(rule.selector)) fail(`${at}.selector`, 'must be an object');
      onlyKnown(rule.selector as Record<string, unknown>, ['labels'], `${at}.selector.`);
      const { labels } = rule.selector;
      if (
        labels !== undefined &&
        !(isObject(labels) && Object.values(labels).every((v) => typeof v === 'string'))
      )
        fail(`${at}.selector.labels`, 'must be an object of strings');
    }
    if (typeof rule.name !== 'string') fail(`${at}.name`, 'must be a string');
    if (rule.kind !== 'instance') fail(`${at}.kind`, 'must be instance');
    if (!STATES.includes(rule.from)) fail(`${at}.from`, `must be one of ${STATES.join(', ')}`);
    if (!STATES.includes(rule.to)) fail(`${at}.to`, `must be one of ${STATES.join(', ')}`);
    const problem = delayProblem(rule.delay, `${at}.delay`);
    if (problem !== undefined) throw new ProfileError(`${at}.delay`, problem);
  });
  for (const [size, type] of Object.entries(profile.instanceTypes ?? {})) {
    if (
      !isObject(type) ||
      !(typeof type.vcpus === 'number' && type.vcpus > 0) ||
      !(typeof type.memoryMiB === 'number' && type.memoryMiB > 0)
    )
      fail(`instanceTypes.${size}`, 'needs vcpus and memoryMiB > 0');
  }
  if (Object.keys(profile.zones ?? {}).length === 0) fail('zones', 'must name at least one zone');
  for (const [zone, room] of Object.entries(profile.zones)) {
    if (!isObject(room) || typeof room.vcpus !== 'number' || !(room.vcpus >= 0))
      fail(`zones.${zone}.vcpus`, 'must be a number >= 0');
  }
  // `typeof` first: '5' >= 0 holds in JavaScript, and nothing here is coerced.
  const count = (value: unknown) => typeof value === 'number' && value >= 0;
  if (!count(profile.instanceQuotaPerTenant)) fail('instanceQuotaPerTenant', 'must be a number >= 0');
  if (!count(profile.crashesPerHour)) fail('crashesPerHour', 'must be a number >= 0');
  return profile;
}

/** The first stage rule that moves `labels`' resource out of `state`. */
export function stageRuleFor(
  profile: Profile,
  state: InstanceState,
  labels: Readonly<Record<string, string>> | undefined,
): StageRule | undefined {
  return profile.stages.find(
    (rule) =>
      rule.from === state && Object.entries(rule.selector?.labels ?? {}).every(([k, v]) => labels?.[k] === v),
  );
}
