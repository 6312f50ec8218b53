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
  /** Fires each slot of each cron job once (src/controllers/cron). */
  cron: leaderKeys.register('cron', 111),
} as const;
