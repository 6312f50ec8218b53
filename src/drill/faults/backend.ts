// Backend faults through the simulator's fault rules (docs/simulator.md): an outage (every
// call unavailable), slowness (a fixed latency) or a hang (calls held until the rule is
// removed), on one backend or all, for a window. The rule is removed at the window's end,
// which also releases the calls a hang holds.

import type { FaultAction } from '../evidence.js';
import { FaultTargetError } from './errors.js';
import { pick } from './random.js';

/** The simulator's name of each backend a scenario may write. */
const BACKENDS: Readonly<Record<string, string>> = {
  compute: 'compute',
  network: 'network',
  storage: 'storage',
  dns: 'dns',
  lb: 'loadBalancer',
  loadBalancer: 'loadBalancer',
  webhook: 'webhook',
  all: '*',
};

/** A slow backend's added latency per call. */
export const SLOW_MS = 1_500;

export function simBackend(target: string): string {
  const name = target.startsWith('backend:') ? target.slice('backend:'.length) : target;
  const backend = BACKENDS[name];
  if (!backend)
    throw new FaultTargetError(
      `unknown backend ${JSON.stringify(name)}: expected compute, network, storage, dns, lb, webhook or all`,
    );
  return backend;
}

function effectOf(action: FaultAction): Record<string, unknown> {
  if (action === 'backend-outage') return { kind: 'outage' };
  if (action === 'backend-slow') return { kind: 'latency', delay: { kind: 'fixed', ms: SLOW_MS } };
  if (action === 'backend-hang') return { kind: 'hang' };
  throw new FaultTargetError(`${action} is not a backend fault`);
}

/** A handle on the simulator's admin routes. */
export interface SimAdmin {
  readonly url: string;
  readonly token: string;
}

async function admin(sim: SimAdmin, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(new URL(path, sim.url), {
    method,
    headers: {
      authorization: `Bearer ${sim.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`sim ${method} ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Adds the rule; resolves with a function that removes it. */
export async function addBackendFault(
  sim: SimAdmin,
  action: FaultAction,
  target: string,
): Promise<() => Promise<void>> {
  const rule = (await admin(sim, 'POST', '/faults', {
    backend: simBackend(target),
    effect: effectOf(action),
  })) as {
    id: string;
  };
  return async () => {
    await admin(sim, 'DELETE', `/faults/${encodeURIComponent(rule.id)}`);
  };
}

/** A managed database's node as the simulator's truth lists it. */
interface TruthNode {
  readonly name: string;
  readonly role: string;
  readonly healthy: boolean;
}

/**
 * Takes the primary of one managed database down in the simulator (chosen by `random` among
 * those with a healthy primary and a healthy replica); resolves with what it took down and a
 * function that brings that node back up. A node back up after a failover stays fenced: the
 * simulator never lets it take writes again.
 */
export async function takeDatabasePrimaryDown(
  sim: SimAdmin,
  random: () => number,
): Promise<{ resolved: string; restore: () => Promise<void> }> {
  const truth = (await admin(sim, 'GET', '/truth')) as {
    databases?: Array<{ id: string; nodes: TruthNode[] }>;
  };
  const candidates = (truth.databases ?? []).filter(
    (d) =>
      d.nodes.some((n) => n.role === 'primary' && n.healthy) &&
      d.nodes.some((n) => n.role === 'replica' && n.healthy),
  );
  if (candidates.length === 0)
    throw new FaultTargetError('no managed database with a healthy primary and a healthy replica');
  const database = pick(candidates, random);
  const primary = database.nodes.find((n) => n.role === 'primary' && n.healthy)!;
  const path = `/databases/${encodeURIComponent(database.id)}/nodes/${encodeURIComponent(primary.name)}/health`;
  await admin(sim, 'PUT', path, { healthy: false });
  return {
    resolved: `${database.id}/${primary.name}`,
    restore: async () => {
      await admin(sim, 'PUT', path, { healthy: true });
    },
  };
}
