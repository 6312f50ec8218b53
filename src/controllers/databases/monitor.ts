// The replica monitor: each managed database's replication lag and node health, read from the
// backend, turned into conditions and outputs on the resource (written fenced, only when they
// changed). The failover controller reads the backend itself; these conditions are what a user
// and an operator see of the same facts.

import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { DatabaseCluster, DatabasePort } from '../../core/ports/database.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { databaseOutputs } from '../../kinds/databases/index.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';
import { type ConditionChange, listWatched, mergedStatus, writeStatus } from './store.js';

/** Options of {@link replicaMonitorController}. */
export interface ReplicaMonitorOptions {
  readonly leaderKey: LeaderKey;
  readonly database: DatabasePort;
  /** Between two passes; default 5 s. */
  readonly resyncMs?: number;
  /** A healthy replica further behind than this is lagging; default 10 s. */
  readonly lagThresholdMs?: number;
}

/** The conditions the monitor owns, from one observation of the cluster. */
export function replicaConditions(c: DatabaseCluster, lagThresholdMs: number): ConditionChange[] {
  const primary = c.nodes.find((n) => n.role === 'primary');
  const replicas = c.nodes.filter((n) => n.role === 'replica');
  const down = replicas.filter((n) => !n.healthy).map((n) => n.name);
  const lagging = replicas.filter((n) => n.healthy && n.lagMs > lagThresholdMs);
  return [
    primary?.healthy
      ? {
          type: 'PrimaryAvailable',
          status: 'True',
          reason: 'Healthy',
          message: `${primary.name} takes writes`,
        }
      : {
          type: 'PrimaryAvailable',
          status: 'False',
          reason: primary ? 'PrimaryDown' : 'NoPrimary',
          message: primary ? `${primary.name} does not answer` : 'no node takes writes',
        },
    down.length === 0
      ? {
          type: 'ReplicasHealthy',
          status: 'True',
          reason: 'Healthy',
          message: `${replicas.length} replicas answer`,
        }
      : {
          type: 'ReplicasHealthy',
          status: 'False',
          reason: 'ReplicaDown',
          message: `down: ${down.join(', ')}`,
        },
    lagging.length === 0
      ? {
          type: 'ReplicationLagging',
          status: 'False',
          reason: 'InSync',
          message: `every replica within ${lagThresholdMs} ms`,
        }
      : {
          type: 'ReplicationLagging',
          status: 'True',
          reason: 'Lagging',
          message: lagging.map((n) => `${n.name} ${n.lagMs} ms behind`).join(', '),
        },
  ];
}

/** The replica monitor (controller 7 of issue 12). */
export function replicaMonitorController(options: ReplicaMonitorOptions): ControllerDefinition {
  const lagThresholdMs = options.lagThresholdMs ?? 10_000;
  return defineController({
    name: 'replica-monitor',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? 5_000,
    wakeOnKinds: ['databases'],
    async pass(ctx) {
      for (const d of await listWatched(ctx.db)) {
        if (ctx.signal.aborted) break;
        let cluster: DatabaseCluster;
        try {
          cluster = await options.database.getDatabase(d.status.outputs!.backendId, { signal: ctx.signal });
        } catch (err) {
          // Gone in the backend: the reconciler's to notice (its delete, or a drift).
          if (isNotFoundError(err)) continue;
          throw err;
        }
        const { primary, replicas, lagMs } = databaseOutputs(cluster);
        const status = mergedStatus(
          d,
          replicaConditions(cluster, lagThresholdMs),
          { ...(primary ? { primary } : {}), replicas, lagMs },
          new Date(ctx.now()),
        );
        if (status === undefined) continue;
        await ctx.fenced((tx) => writeStatus(tx, d, status));
      }
      return { more: false, lagMs: 0 };
    },
  });
}
