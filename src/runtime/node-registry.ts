import type { Role } from '../cli/config.js';
import type { Queryable } from '../ha/db/database.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import { sleep } from '../ha/lifecycle/sleep.js';

/** Records this process in stratus_nodes at start; marks it stopped on a clean exit. */
export async function registerNode(db: Queryable, node: { nodeId: string; role: Role; version: string }) {
  await db.query(
    `INSERT INTO stratus_nodes (node_id, role, version) VALUES ($1, $2, $3)
     ON CONFLICT (node_id) DO UPDATE
       SET role = EXCLUDED.role, version = EXCLUDED.version,
           started_at = now(), last_seen_at = now(), stopped_at = NULL`,
    [node.nodeId, node.role, node.version],
  );
}

export async function markNodeStopped(db: Queryable, nodeId: string): Promise<void> {
  await db.query('UPDATE stratus_nodes SET stopped_at = now() WHERE node_id = $1', [nodeId]);
}

/**
 * Refreshes this node's last_seen_at every `intervalMs`, so that the node list tells live
 * replicas from dead ones. A failed refresh (database down) is reported and retried on the
 * next tick: it never stops the process.
 */
export function nodeHeartbeat(
  db: Queryable,
  nodeId: string,
  onError: (err: Error) => void,
  intervalMs = 5_000,
): Runnable {
  return {
    name: 'node-heartbeat',
    async start(signal) {
      while (!signal.aborted) {
        await sleep(intervalMs, signal);
        if (signal.aborted) break;
        try {
          await db.query('UPDATE stratus_nodes SET last_seen_at = now() WHERE node_id = $1', [nodeId]);
        } catch (err) {
          onError(err as Error);
        }
      }
    },
  };
}

/**
 * Marks nodes that stopped refreshing last_seen_at (killed, partitioned) as stopped, so the
 * node list does not show dead replicas as alive. Idempotent: every worker may run it.
 */
export function nodeReaper(
  db: Queryable,
  onError: (err: Error) => void,
  options: { intervalMs?: number; staleAfterMs?: number } = {},
): Runnable {
  const intervalMs = options.intervalMs ?? 10_000;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  return {
    name: 'node-reaper',
    async start(signal) {
      while (!signal.aborted) {
        await sleep(intervalMs, signal);
        if (signal.aborted) break;
        try {
          await db.query(
            `UPDATE stratus_nodes SET stopped_at = last_seen_at
             WHERE stopped_at IS NULL AND last_seen_at < now() - $1 * interval '1 millisecond'`,
            [staleAfterMs],
          );
        } catch (err) {
          onError(err as Error);
        }
      }
    },
  };
}
