// Database failover: a primary down longer than a threshold is fenced in the backend with the
// term's epoch FIRST, then the healthiest, least-lagging replica is promoted with the same
// epoch. The backend refuses either call with an epoch older than the newest it has seen for
// the database, so a deposed leader that wakes up mid-failover can do neither; and a promote
// only ever follows this term's own fence, so there are never two writable primaries.

import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { DatabaseCluster, DatabasePort } from '../../core/ports/database.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { databaseOutputs } from '../../kinds/databases/index.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';
import { planFailover } from './choose.js';
import { listWatched, mergedStatus, writeStatus } from './store.js';

/** Options of {@link databaseFailoverController}. */
export interface DatabaseFailoverOptions {
  readonly leaderKey: LeaderKey;
  readonly database: DatabasePort;
  /** How long a primary must stay down before it is replaced; default 10 s. */
  readonly thresholdMs?: number;
  /** Between two passes; default 1 s (a down primary is noticed within it past the threshold). */
  readonly resyncMs?: number;
  /** Who calls, for the backend's audit. */
  readonly caller?: string;
  /** Told of each step as it is made (tests). */
  readonly onStep?: (step: {
    database: string;
    op: 'fence' | 'promote';
    node: string;
    epoch: number;
  }) => void;
}

/** The database-failover controller (controller 10 of issue 12). */
export function databaseFailoverController(options: DatabaseFailoverOptions): ControllerDefinition {
  const thresholdMs = options.thresholdMs ?? 10_000;
  const resyncMs = options.resyncMs ?? 1_000;
  return defineController({
    name: 'database-failover',
    leaderKey: options.leaderKey,
    resyncMs,
    wakeOnKinds: [],
    async pass(ctx) {
      let waitingMs = 0;
      for (const d of await listWatched(ctx.db)) {
        if (ctx.signal.aborted) break;
        const id = d.status.outputs!.backendId;
        let cluster: DatabaseCluster;
        try {
          cluster = await options.database.getDatabase(id, { signal: ctx.signal });
        } catch (err) {
          if (isNotFoundError(err)) continue;
          throw err;
        }
        const plan = planFailover(cluster, ctx.now(), thresholdMs);
        if (plan.action === 'wait') waitingMs = Math.max(waitingMs, plan.downForMs);
        if (plan.action !== 'failover') continue;
        // Tokens per term: a successor's calls are its own, never a replay of ours.
        const call = (op: string, node: string) => ({
          clientToken: `failover/${id}/${ctx.epoch}/${op}/${node}`,
          fencingToken: ctx.epoch,
          signal: ctx.signal,
          ...(options.caller === undefined ? {} : { caller: options.caller }),
        });
        for (const node of plan.fence) {
          options.onStep?.({ database: id, op: 'fence', node, epoch: ctx.epoch });
          await options.database.fence(id, node, call('fence', node));
        }
        options.onStep?.({ database: id, op: 'promote', node: plan.promote, epoch: ctx.epoch });
        const after = await options.database.promote(id, plan.promote, call('promote', plan.promote));
        const { primary, replicas, lagMs } = databaseOutputs(after);
        const status = mergedStatus(
          d,
          [
            {
              type: 'FailedOver',
              status: 'True',
              reason: 'PrimaryReplaced',
              message: `${plan.fence.length > 0 ? `${plan.fence.join(', ')} fenced; ` : ''}${plan.promote} promoted at epoch ${ctx.epoch}`,
            },
          ],
          { ...(primary ? { primary } : {}), replicas, lagMs },
          new Date(ctx.now()),
        );
        if (status !== undefined) await ctx.fenced((tx) => writeStatus(tx, d, status));
      }
      // Lag: how long the longest-down primary has waited for its threshold.
      return { more: false, lagMs: waitingMs };
    },
  });
}
