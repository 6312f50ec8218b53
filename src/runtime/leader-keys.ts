import { leaderKeys } from '../ha/leader/keys.js';

/**
 * The leadership keys of the control plane, with their checked-in advisory-lock ids
 * (applications use ids from 100; never reuse or renumber one).
 */
export const controlPlaneKeys = {
  /** Marks nodes that stopped heartbeating as stopped. */
  nodeReaper: leaderKeys.register('node-reaper', 100),
  /** Re-dispatches outbox jobs that are neither done nor leased (the Redis-data-loss path). */
  outboxSweeper: leaderKeys.register('outbox-sweeper', 101),
  // The singleton controllers of DESIGN.md §10 take ids from 110, one each.
  /** Records every minute of every resource's life once (src/controllers/accounting). */
  accounting: leaderKeys.register('accounting', 110),
  /** Load balancers' targets follow their groups' running instances (src/controllers/lb-sync). */
  lbSync: leaderKeys.register('lb-sync', 112),
  /** Autoscaling groups sized from CPU, their instances created and deleted (src/controllers/autoscaling). */
  autoscaling: leaderKeys.register('autoscaling', 113),
  /** Deployments' replicas converged and rolled out (src/controllers/deployments). */
  deployments: leaderKeys.register('deployments', 114),
  /** Crashed instances restarted or replaced (src/controllers/healing). */
  healing: leaderKeys.register('healing', 115),
  /** Managed databases' replication lag and node health → conditions (src/controllers/databases). */
  replicaMonitor: leaderKeys.register('replica-monitor', 116),
  /** A managed database's primary down past a threshold → fence it, promote a replica. */
  databaseFailover: leaderKeys.register('database-failover', 117),
  /** Volumes' scheduled snapshots taken and pruned, expired snapshots deleted (src/controllers/storage). */
  storageLifecycle: leaderKeys.register('storage-lifecycle', 118),
  /** Fires each slot of each cron job once (src/controllers/cron). */
  cron: leaderKeys.register('cron', 111),
  /** Pipeline runs followed, old runs and their logs deleted (src/controllers/pipelines). */
  pipelines: leaderKeys.register('pipelines', 120),
  /** The control plane's own tables pruned by their retention (src/controllers/housekeeping). */
  housekeeping: leaderKeys.register('housekeeping', 119),
  /** Clusters' endpoints and nodes converged, upgraded and repaired (src/controllers/clusters). */
  clusters: leaderKeys.register('clusters', 121),
  /** Backend objects no resource owns deleted after a grace (src/controllers/gc). */
  garbageCollector: leaderKeys.register('garbage-collector', 122),
} as const;
