// What the load sends: a mix of creates, updates, actions, deletes, gets and lists over every
// kind, for each of two tenants, built from what the load has created so far. A create names
// only resources the same tenant created (a reference to another tenant's would be a 422 and
// prove nothing); a kind whose references have no resource yet creates one of them instead.
//
// The bodies follow test/e2e/fixtures.ts (a valid create body per kind). A new kind without an
// entry in BODIES is never created, and the drill says so at start (`kindsWithoutBody`).

import type { LoadOp } from '../evidence.js';
import { pick } from '../faults/random.js';
import type { LoadRequest } from './client.js';

/** A resource the load created and has not deleted. */
export interface Live {
  readonly id: string;
  readonly kind: string;
  /** What later requests need: its network, size, ttl... */
  readonly facts: Record<string, unknown>;
}

interface Tenant {
  readonly tenant: string;
  readonly apiKey: string;
  readonly live: Map<string, Live[]>;
}

/** The references each kind's body takes, for the choice of what to create. */
const NEEDS: Readonly<Record<string, readonly string[]>> = {
  networks: [],
  subnets: ['networks'],
  instances: ['networks'],
  volumes: [],
  snapshots: ['volumes'],
  'load-balancers': ['instances'],
  'dns-zones': [],
  'dns-records': ['dns-zones', 'instances'],
  'cron-jobs': [],
  databases: [],
  'autoscaling-groups': ['networks'],
  deployments: ['networks'],
};

/**
 * Kinds the load keeps few of per tenant (at the cap, another kind is created instead): each
 * cron job fires every 5 s for the whole run, each managed database runs two nodes, and each
 * autoscaling group or deployment two instances of its own.
 */
const CAPS: Readonly<Record<string, number>> = {
  'cron-jobs': 4,
  databases: 3,
  'autoscaling-groups': 2,
  deployments: 2,
};

/**
 * Kinds the load never updates or deletes: a cron job keeps one schedule for the whole run, so
 * the cron audit judges every slot it owed (docs/drills.md).
 */
const KEPT = new Set(['cron-jobs']);

/** The kinds the mix can create. */
export const MIX_KINDS: readonly string[] = Object.keys(NEEDS);

/** Kinds of `registered` the mix has no body for. */
export function kindsWithoutBody(registered: readonly string[]): string[] {
  return registered.filter((k) => !(k in NEEDS));
}

/** The operations and their shares of the load. */
const WEIGHTS: ReadonlyArray<readonly [LoadOp, number]> = [
  ['create', 0.3],
  ['update', 0.15],
  ['action', 0.15],
  ['delete', 0.1],
  ['get', 0.18],
  ['list', 0.12],
];

export class LoadMix {
  readonly #tenants: Tenant[];
  readonly #random: () => number;
  readonly #run: string;
  #serial = 0;
  /** One counter for every network's /24, across tenants: no two overlap in the cloud. */
  #networks = 0;

  constructor(tenants: ReadonlyArray<{ tenant: string; key: string }>, random: () => number, runId: string) {
    this.#tenants = tenants.map((t) => ({ tenant: t.tenant, apiKey: t.key, live: new Map() }));
    this.#random = random;
    this.#run = runId;
  }

  /** Resources alive per tenant (for progress lines). */
  get liveCount(): number {
    let n = 0;
    for (const t of this.#tenants) for (const list of t.live.values()) n += list.length;
    return n;
  }

  #key(): string {
    return `drill-${this.#run}-${++this.#serial}`;
  }

  #anyLive(t: Tenant, kind?: string): Live | undefined {
    const pool = kind ? (t.live.get(kind) ?? []) : [...t.live.values()].flat();
    return pool.length === 0 ? undefined : pick(pool, this.#random);
  }

  /** The next request, and what to do with its answer. */
  next(): {
    request: LoadRequest;
    onAnswer: (ok: boolean, status: number | undefined, body: unknown) => void;
  } {
    const t = pick(this.#tenants, this.#random);
    let roll = this.#random();
    let op: LoadOp = 'create';
    for (const [name, weight] of WEIGHTS) {
      if (roll < weight) {
        op = name;
        break;
      }
      roll -= weight;
    }
    const base = { tenant: t.tenant, apiKey: t.apiKey };
    const none = () => {};
    if (op === 'list') {
      const kind = pick(MIX_KINDS, this.#random);
      return { request: { ...base, op, kind, method: 'GET', path: `/v1/${kind}?limit=20` }, onAnswer: none };
    }
    const target = op === 'create' ? undefined : this.#pickFor(t, op);
    if (!target) return this.#create(t);
    const path = `/v1/${target.kind}/${target.id}`;
    const about = { ...base, kind: target.kind, resourceId: target.id };
    if (op === 'get') return { request: { ...about, op, method: 'GET', path }, onAnswer: none };
    if (op === 'delete') {
      this.#forget(t, target);
      return {
        request: {
          ...about,
          op,
          method: 'DELETE',
          path: `${path}?cascade=true`,
          idempotencyKey: this.#key(),
        },
        onAnswer: none,
      };
    }
    if (op === 'update') {
      return {
        request: {
          ...about,
          op,
          method: 'PATCH',
          path,
          body: this.#patch(target),
          idempotencyKey: this.#key(),
        },
        onAnswer: none,
      };
    }
    const action = this.#action(t, target);
    return {
      request: {
        ...about,
        op,
        method: 'POST',
        path: `${path}/${action.name}`,
        ...(action.body === undefined ? {} : { body: action.body }),
        idempotencyKey: this.#key(),
      },
      onAnswer: none,
    };
  }

  #pickFor(t: Tenant, op: LoadOp): Live | undefined {
    if (op === 'action') {
      const pool = [...(t.live.get('instances') ?? []), ...(t.live.get('volumes') ?? [])];
      return pool.length === 0 ? undefined : pick(pool, this.#random);
    }
    if (op === 'get') return this.#anyLive(t);
    const pool = [...t.live.entries()].filter(([kind]) => !KEPT.has(kind)).flatMap(([, list]) => list);
    return pool.length === 0 ? undefined : pick(pool, this.#random);
  }

  #forget(t: Tenant, r: Live): void {
    const pool = t.live.get(r.kind) ?? [];
    const i = pool.findIndex((x) => x.id === r.id);
    if (i >= 0) pool.splice(i, 1);
  }

  #patch(r: Live): unknown {
    const labels = { drill: String(++this.#serial) };
    if (r.kind === 'volumes') {
      const size = Math.min(16_384, Number(r.facts.sizeGiB ?? 1) + 1);
      (r.facts as { sizeGiB: number }).sizeGiB = size;
      return { labels, spec: { sizeGiB: size } };
    }
    if (r.kind === 'dns-records') return { labels, spec: { ttl: 60 + Math.floor(this.#random() * 600) } };
    if (r.kind === 'load-balancers')
      return { labels, spec: { algorithm: this.#random() < 0.5 ? 'round-robin' : 'least-connections' } };
    return { labels };
  }

  #action(t: Tenant, r: Live): { name: string; body?: unknown } {
    if (r.kind === 'volumes') {
      const instance = this.#anyLive(t, 'instances');
      if (instance && this.#random() < 0.6) return { name: 'attach', body: { instance: instance.id } };
      return { name: 'detach' };
    }
    const name = pick(['stop', 'start', 'reboot', 'resize'], this.#random);
    return name === 'resize' ? { name, body: { size: pick(['small', 'medium'], this.#random) } } : { name };
  }

  /** A create of a random kind, or of what it needs first. */
  #create(t: Tenant) {
    let kind = pick(MIX_KINDS, this.#random);
    if ((t.live.get(kind)?.length ?? 0) >= (CAPS[kind] ?? Number.POSITIVE_INFINITY)) kind = 'volumes';
    for (let depth = 0; depth < 3; depth++) {
      const missing = NEEDS[kind]!.find((k) => (t.live.get(k)?.length ?? 0) === 0);
      if (!missing) break;
      kind = missing;
    }
    // A network holds four /26 subnets; with none of room left, a new network comes first.
    if (kind === 'subnets' && !this.#roomyNetwork(t)) kind = 'networks';
    const n = ++this.#serial;
    const { spec, facts } = this.#body(t, kind, n);
    const name = `${kind.replace(/s$/, '')}-${n}`;
    return {
      request: {
        tenant: t.tenant,
        apiKey: t.apiKey,
        op: 'create' as const,
        kind,
        method: 'POST' as const,
        path: `/v1/${kind}`,
        body: { name, labels: { drill: this.#run }, spec },
        idempotencyKey: this.#key(),
      },
      onAnswer: (ok: boolean, status: number | undefined, body: unknown) => {
        const id = (body as { resource?: { id?: unknown } } | undefined)?.resource?.id;
        if (!ok || status !== 202 || typeof id !== 'string') return;
        const pool = t.live.get(kind) ?? [];
        pool.push({ id, kind, facts });
        t.live.set(kind, pool);
      },
    };
  }

  #roomyNetwork(t: Tenant): Live | undefined {
    const pool = (t.live.get('networks') ?? []).filter((n) => Number(n.facts.subnets ?? 0) < 4);
    return pool.length === 0 ? undefined : pick(pool, this.#random);
  }

  #body(
    t: Tenant,
    kind: string,
    n: number,
  ): { spec: Record<string, unknown>; facts: Record<string, unknown> } {
    const ref = (k: string) => this.#anyLive(t, k)!;
    switch (kind) {
      case 'networks': {
        const i = this.#networks++ % 65_536;
        const prefix = `10.${(i >> 8) & 255}.${i & 255}`;
        return { spec: { cidr: `${prefix}.0/24` }, facts: { prefix, subnets: 0 } };
      }
      case 'subnets': {
        // The four /26 of its /24, one after the other, so no two overlap.
        const network = this.#roomyNetwork(t)!;
        const k = Number(network.facts.subnets ?? 0);
        (network.facts as { subnets: number }).subnets = k + 1;
        return { spec: { network: network.id, cidr: `${network.facts.prefix}.${k * 64}/26` }, facts: {} };
      }
      case 'instances': {
        const network = ref('networks');
        return {
          spec: { image: 'ubuntu-24.04', size: 'small', network: network.id },
          facts: { network: network.id },
        };
      }
      case 'volumes': {
        const sizeGiB = 1 + (n % 8);
        return { spec: { sizeGiB, type: n % 2 === 0 ? 'standard' : 'ssd' }, facts: { sizeGiB } };
      }
      case 'snapshots':
        return { spec: { volume: ref('volumes').id }, facts: {} };
      case 'load-balancers': {
        const instance = ref('instances');
        return {
          spec: {
            network: instance.facts.network,
            listeners: [{ port: 80, protocol: 'http' }],
            algorithm: 'round-robin',
            healthCheck: {
              path: '/healthz',
              intervalSeconds: 10,
              healthyThreshold: 2,
              unhealthyThreshold: 3,
            },
            targets: [{ instance: instance.id, port: 8080, weight: 1 }],
          },
          facts: {},
        };
      }
      case 'cron-jobs':
        // Every 5 s, into the simulator's webhook backend; half skip missed slots, half catch up.
        return {
          spec: {
            schedule: '*/5 * * * * *',
            timeZone: 'UTC',
            target: { method: 'POST', url: `https://hooks.drill.test/cron/${n}`, body: `{"n":${n}}` },
            ...(n % 2 === 0 ? { missedSlots: 'catch-up', maxCatchUp: 3 } : {}),
          },
          facts: {},
        };
      case 'autoscaling-groups': {
        // Two instances of its own (children the group owns: the load never touches them), no
        // policy: the simulator's CPU would move them.
        const network = ref('networks');
        return {
          spec: {
            template: { image: 'ubuntu-24.04', instanceType: 'small', network: network.id },
            minSize: 1,
            maxSize: 3,
            desired: 2,
          },
          facts: { network: network.id },
        };
      }
      case 'deployments': {
        const network = ref('networks');
        return {
          spec: { image: `nginx:1.${27 + (n % 2)}`, replicas: 2, instanceType: 'small', network: network.id },
          facts: { network: network.id },
        };
      }
      case 'databases':
        return {
          spec: { engine: 'postgres', version: '16', replicas: 1, instanceType: 'small' },
          facts: {},
        };
      case 'dns-zones':
        return { spec: { domain: `zone-${n}.${this.#run.replaceAll('_', '-')}.drill.test` }, facts: {} };
      case 'dns-records':
        return {
          spec: {
            zone: ref('dns-zones').id,
            name: `www${n}`,
            type: 'A',
            ttl: 300,
            instance: ref('instances').id,
          },
          facts: {},
        };
    }
    throw new Error(`no body for kind ${kind}`);
  }
}
