// Which replica a failover promotes: the healthiest, least-lagging one.

import type { DatabaseCluster, DatabaseNode } from '../../core/ports/database.js';

/**
 * The replica to promote: healthy and not fenced, the least replication lag first, then the
 * lowest name (so two controllers looking at one cluster choose the same node).
 */
export function chooseReplica(cluster: DatabaseCluster): DatabaseNode | undefined {
  return cluster.nodes
    .filter((n) => n.role === 'replica' && n.healthy)
    .sort((a, b) => a.lagMs - b.lagMs || a.name.localeCompare(b.name))[0];
}

/** What a failover pass should do with one cluster now. */
export type FailoverPlan =
  | { readonly action: 'none'; readonly reason: 'healthy' | 'no-primary-needed' }
  | { readonly action: 'wait'; readonly primary: string; readonly downForMs: number }
  | { readonly action: 'stuck'; readonly reason: string }
  | { readonly action: 'failover'; readonly fence: readonly string[]; readonly promote: string };

/**
 * The plan for `cluster` at `now`: nothing while a healthy primary exists; wait while the primary
 * has been down less than `thresholdMs`; otherwise fence every unhealthy primary and every fenced
 * node (first), then promote the chosen replica. A cluster left with no primary at all (a
 * previous term fenced it and stopped before promoting) is failed over at once.
 */
export function planFailover(cluster: DatabaseCluster, now: number, thresholdMs: number): FailoverPlan {
  const primaries = cluster.nodes.filter((n) => n.role === 'primary');
  if (primaries.some((n) => n.healthy)) return { action: 'none', reason: 'healthy' };
  const down = primaries.filter((n) => !n.healthy);
  const longest = Math.max(0, ...down.map((n) => now - n.healthSince));
  if (down.length > 0 && longest < thresholdMs)
    return { action: 'wait', primary: down[0]!.name, downForMs: longest };
  const replica = chooseReplica(cluster);
  if (replica === undefined) return { action: 'stuck', reason: 'no healthy replica to promote' };
  // The fenced nodes are fenced again with this term's epoch, so the database's epoch moves to
  // ours before our promote: a previous term's call still in flight is refused from here on.
  const fence = cluster.nodes.filter((n) => n.role === 'fenced' || (n.role === 'primary' && !n.healthy));
  return { action: 'failover', fence: fence.map((n) => n.name), promote: replica.name };
}
