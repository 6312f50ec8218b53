// How the end-to-end test builds a valid create body for each kind: ONE table, one entry per
// kind. A new kind is one entry here; a kind registered without one fails the test loudly.
//
// The rule every entry keeps: resource `index` of a kind references the resources at the same
// `index` of the kinds it names (`ref(ctx, 'networks')`). The test deletes the same indices of
// every kind in reverse registry order, so no deleted resource is still referenced by a live one.

import type { KindDefinition } from '../../src/core/resources/kind.js';

/** A resource the test created, as the API answered it. */
export interface Created {
  readonly id: string;
  readonly index: number;
}

/** What a fixture gets to build resource `index` of its kind. */
export interface FixtureContext {
  /** 0 .. count - 1: unique within the kind. */
  readonly index: number;
  /** The resources already created, per kind, in index order (the kinds before this one). */
  readonly created: Readonly<Record<string, readonly Created[]>>;
}

/** Builds the spec (and any labels of its own) of one resource. */
export type Fixture = (ctx: FixtureContext) => {
  readonly spec: Record<string, unknown>;
  readonly labels?: Record<string, string>;
};

/** The id of the resource of `kind` at this fixture's index (the rule above). */
export function ref(ctx: FixtureContext, kind: string): string {
  const pool = ctx.created[kind];
  if (!pool || pool.length === 0)
    throw new Error(`no ${kind} created before: list it before its referrers in src/kinds/index.ts`);
  return pool[ctx.index % pool.length]!.id;
}

/** Most resources of one kind a run may create (the networks' /24 ranges run out after that). */
export const MAX_COUNT = 65_536;

/** The fixture table. */
export const fixtures: Readonly<Record<string, Fixture>> = {
  networks: ({ index }) => ({ spec: { cidr: `10.${(index >> 8) & 255}.${index & 255}.0/24` } }),
  subnets: (ctx) => ({
    spec: {
      network: ref(ctx, 'networks'),
      cidr: `10.${(ctx.index >> 8) & 255}.${ctx.index & 255}.0/26`,
    },
  }),
  instances: (ctx) => ({ spec: { image: 'ubuntu-24.04', size: 'small', network: ref(ctx, 'networks') } }),
  volumes: ({ index }) => ({
    spec: { sizeGiB: 1 + (index % 8), type: index % 2 === 0 ? 'standard' : 'ssd' },
  }),
  snapshots: (ctx) => ({ spec: { volume: ref(ctx, 'volumes') } }),
  'load-balancers': (ctx) => ({
    spec: {
      network: ref(ctx, 'networks'),
      listeners: [{ port: 80, protocol: 'http' }],
      algorithm: 'round-robin',
      healthCheck: { path: '/healthz', intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
      targets: [{ instance: ref(ctx, 'instances'), port: 8080, weight: 1 }],
    },
  }),
  'dns-zones': ({ index }) => ({ spec: { domain: `zone-${index}.e2e.test` } }),
  'dns-records': (ctx) => ({
    spec: { zone: ref(ctx, 'dns-zones'), name: 'www', type: 'A', ttl: 300, instance: ref(ctx, 'instances') },
  }),
  databases: ({ index }) => ({
    spec: {
      engine: index % 2 === 0 ? 'postgres' : 'mysql',
      version: index % 2 === 0 ? '16' : '8.4',
      replicas: 0,
      instanceType: 'small',
    },
  }),
  // Once a year: a run of the test fires none of them.
  'cron-jobs': ({ index }) => ({
    spec: {
      schedule: `${index % 60} 3 1 1 *`,
      timeZone: 'UTC',
      target: { method: 'POST', url: `https://hooks.e2e.test/cron/${index}` },
    },
  }),
  // No replicas: a deployment of its own creates no instances, so the counts stay the test's.
  deployments: (ctx) => ({
    spec: { image: 'nginx:1.27', replicas: 0, instanceType: 'small', network: ref(ctx, 'networks') },
  }),
  pipelines: ({ index }) => ({
    spec: {
      stages: [
        { name: 'build', steps: [{ name: 'make', image: 'node:20', commands: [`echo build ${index}`] }] },
        { name: 'test', steps: [{ name: 'unit', image: 'node:20', commands: ['echo ok'] }] },
      ],
    },
  }),
  'pipeline-runs': (ctx) => ({ spec: { pipeline: ref(ctx, 'pipelines') } }),
  // Desired 0: a group of its own creates no instances, so the counts of every kind stay the test's.
  'autoscaling-groups': (ctx) => ({
    spec: {
      template: { image: 'ubuntu-24.04', instanceType: 'small', network: ref(ctx, 'networks') },
      minSize: 0,
      maxSize: 2,
      desired: 0,
    },
  }),
};

/**
 * Kinds this test leaves out, each with why and where it is tested instead. Only a kind whose
 * controller creates resources of its own belongs here: the counts and the backend's truth
 * checked below are of the test's resources alone.
 */
export const leftOut: Readonly<Record<string, string>> = {
  clusters:
    'its reconciler creates a load balancer and at least one control-plane instance of its own; see test/controllers/clusters.test.ts',
};

/** The fixture of `kind`; throws naming the kind when the table has none. */
export function fixtureOf(kind: KindDefinition): Fixture {
  const fixture = fixtures[kind.name];
  if (!fixture) {
    throw new Error(
      `kind "${kind.name}" has no fixture in test/e2e/fixtures.ts: add one entry building a valid create body`,
    );
  }
  return fixture;
}

/** Kinds of `kinds` without a fixture, and fixtures of no registered kind (stale entries). */
export function fixtureGaps(kinds: readonly KindDefinition[]): { missing: string[]; stale: string[] } {
  const names = new Set(kinds.map((k) => k.name));
  return {
    missing: kinds
      .filter((k) => fixtures[k.name] === undefined && leftOut[k.name] === undefined)
      .map((k) => k.name),
    stale: [...Object.keys(fixtures), ...Object.keys(leftOut)].filter((name) => !names.has(name)),
  };
}
