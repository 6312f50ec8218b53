import type { Role } from '../cli/config.js';
import type { Queryable } from '../ha/db/database.js';
import { loadText } from '../ha/db/sql-loader.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import { sleep } from '../ha/lifecycle/sleep.js';

const sql = {
  register: loadText(new URL('./sql/register-node.sql', import.meta.url)),
  stopped: loadText(new URL('./sql/mark-node-stopped.sql', import.meta.url)),
  touch: loadText(new URL('./sql/touch-node.sql', import.meta.url)),
  reap: loadText(new URL('./sql/reap-nodes.sql', import.meta.url)),
};

/** Records this process in stratus_nodes at start; marks it stopped on a clean exit. */
export async function registerNode(
  db: Queryable,
  node: { nodeId: string; role: Role; version: string },
): Promise<void> {
  await db.query(sql.register, [node.nodeId, node.role, node.version]);
}

export async function markNodeStopped(db: Queryable, nodeId: string): Promise<void> {
  await db.query(sql.stopped, [nodeId]);
}

/**
 * A runnable that runs `tick` every `intervalMs` until stopped. A failed tick (database
 * down) is reported and retried on the next one: it never stops the runnable.
 */
function periodic(
  name: string,
  intervalMs: number,
  tick: () => Promise<unknown>,
  onError: (err: Error) => void,
) {
  return {
    name,
    async start(signal: AbortSignal) {
      while (!signal.aborted) {
        await sleep(intervalMs, signal);
        if (signal.aborted) break;
        try {
          await tick();
        } catch (err) {
          onError(err as Error);
        }
      }
    },
  } satisfies Runnable;
}

/** Refreshes this node's last_seen_at, so that the node list tells live replicas from dead ones. */
export function nodeHeartbeat(
  db: Queryable,
  nodeId: string,
  onError: (err: Error) => void,
  intervalMs = 5_000,
): Runnable {
  return periodic('node-heartbeat', intervalMs, () => db.query(sql.touch, [nodeId]), onError);
}

/**
 * Marks nodes that stopped refreshing last_seen_at (killed, partitioned) as stopped, so the
 * node list does not show dead replicas as alive. Idempotent; runs leader-guarded.
 */
export function nodeReaper(
  db: Queryable,
  onError: (err: Error) => void,
  options: { intervalMs?: number; staleAfterMs?: number } = {},
): Runnable {
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  return periodic(
    'node-reaper',
    options.intervalMs ?? 10_000,
    () => db.query(sql.reap, [staleAfterMs]),
    onError,
  );
}
