import { hostname } from 'node:os';
import type { Role } from '../config/index.js';
import type { Queryable } from '../ha/db/database.js';
import { loadText } from '../ha/db/sql-loader.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import { sleep } from '../ha/lifecycle/sleep.js';

const sql = {
  register: loadText(new URL('./sql/register-node.sql', import.meta.url)),
  stopped: loadText(new URL('./sql/mark-node-stopped.sql', import.meta.url)),
  touch: loadText(new URL('./sql/touch-node.sql', import.meta.url)),
  reap: loadText(new URL('./sql/reap-nodes.sql', import.meta.url)),
  prune: loadText(new URL('./sql/prune-nodes.sql', import.meta.url)),
  draining: loadText(new URL('./sql/mark-node-draining.sql', import.meta.url)),
  list: loadText(new URL('./sql/list-nodes.sql', import.meta.url)),
};

/** The timing of the node list; every field has a default. */
export interface NodeRegistryOptions {
  /** Between two refreshes of a node's last_seen_at. Default 5000 ms. */
  heartbeatMs?: number;
  /** Between two passes of the reaper. Default 10 000 ms. */
  reaperIntervalMs?: number;
  /** A node silent for this long is marked stopped. Default 30 000 ms. */
  staleAfterMs?: number;
  /** A node stopped for longer than this is deleted. Default 7 days. */
  retentionMs?: number;
}

/** Records this process in stratus_nodes at start; marks it stopped on a clean exit. */
export async function registerNode(
  db: Queryable,
  node: { nodeId: string; role: Role; version: string; host?: string },
): Promise<void> {
  await db.query(sql.register, [node.nodeId, node.role, node.version, node.host ?? hostname()]);
}

/** Records that the node began a graceful shutdown; it shows as draining until it stops. */
export async function markNodeDraining(db: Queryable, nodeId: string): Promise<void> {
  await db.query(sql.draining, [nodeId]);
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

/**
 * Refreshes this node's last_seen_at, so that the node list tells live replicas from dead ones,
 * and publishes `report()` (this process's breaker states) with it, so that any replica can
 * answer for every other.
 */
export function nodeHeartbeat(
  db: Queryable,
  nodeId: string,
  onError: (err: Error) => void,
  options: NodeRegistryOptions = {},
  report?: () => unknown,
): Runnable {
  return periodic(
    'node-heartbeat',
    options.heartbeatMs ?? 5_000,
    () => db.query(sql.touch, [nodeId, report ? JSON.stringify(report()) : null]),
    onError,
  );
}

/** How a node looks from its last sign of life: see {@link nodeState}. */
export type NodeState = 'live' | 'suspect' | 'gone';

/** One row of the node registry. */
export interface NodeRecord {
  readonly nodeId: string;
  readonly role: Role;
  readonly host: string;
  readonly version: string;
  readonly startedAt: Date;
  readonly lastSeenAt: Date;
  readonly stoppedAt: Date | null;
  readonly drainingSince: Date | null;
  /** What the node last published with its heartbeat (its breakers), and when. */
  readonly breakers: unknown;
  readonly breakersAt: Date | null;
  /** Since the last heartbeat, on the database clock. */
  readonly silentMs: number;
}

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

/** Every node of the registry, by id. */
export async function readNodes(db: Queryable): Promise<NodeRecord[]> {
  const res = await db.query(sql.list);
  return res.rows.map((r) => ({
    nodeId: r.node_id as string,
    role: r.role as Role,
    host: r.host as string,
    version: r.version as string,
    startedAt: date(r.started_at),
    lastSeenAt: date(r.last_seen_at),
    stoppedAt: r.stopped_at == null ? null : date(r.stopped_at),
    drainingSince: r.draining_since == null ? null : date(r.draining_since),
    breakers: r.breakers,
    breakersAt: r.breakers_at == null ? null : date(r.breakers_at),
    silentMs: Number(r.silent_ms),
  }));
}

/**
 * `live` while heartbeats arrive (silent for less than two heartbeat intervals: one late beat is
 * not news); `suspect` past that; `gone` once stopped (cleanly, or marked by the reaper) or silent
 * past the staleness bound the reaper uses, even before the reaper has run.
 */
export function nodeState(
  node: Pick<NodeRecord, 'stoppedAt' | 'silentMs'>,
  options: NodeRegistryOptions = {},
): NodeState {
  if (node.stoppedAt !== null || node.silentMs >= (options.staleAfterMs ?? 30_000)) return 'gone';
  return node.silentMs < 2 * (options.heartbeatMs ?? 5_000) ? 'live' : 'suspect';
}

/**
 * Marks nodes that stopped refreshing last_seen_at (killed, partitioned) as stopped, so the
 * node list does not show dead replicas as alive, and deletes nodes stopped for longer than the
 * retention, so that a deployment whose node ids change at every start (the default
 * `<hostname>-<pid>`, or one per pod) does not grow the table forever. Idempotent; runs
 * leader-guarded.
 */
export function nodeReaper(
  db: Queryable,
  onError: (err: Error) => void,
  options: NodeRegistryOptions = {},
): Runnable {
  return periodic('node-reaper', options.reaperIntervalMs ?? 10_000, () => reapNodes(db, options), onError);
}

/** One pass of the reaper: mark the silent nodes stopped, then forget the long-stopped ones. */
export async function reapNodes(db: Queryable, options: NodeRegistryOptions = {}): Promise<void> {
  await db.query(sql.reap, [options.staleAfterMs ?? 30_000]);
  await db.query(sql.prune, [options.retentionMs ?? 7 * 24 * 3_600_000]);
}
