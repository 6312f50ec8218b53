// The garbage collector (docs/controllers.md): backend objects that carry a resource-id label
// (every driver labels what it creates) naming no resource are orphans — a create repeated by
// a job whose resource was deleted meanwhile, a delete the backend confirmed and did not do.
// An orphan is marked, fenced, by the first pass that sees it; one still an orphan after the
// grace is deleted with `gc/<collection>/<id>` as client token (a successor repeats the same
// call, which the backend does at most once) and a fencing token from the ledger's sequence,
// above every lease ever granted: a job still holding an older one is refused on that object
// from then on. Objects without the label are never touched: they are not Stratus's.

import { isConflictError, isNotFoundError } from '../../core/errors/backend-errors.js';
import type { BackendPorts } from '../../core/ports/index.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { LeaderKey } from '../../ha/leader/keys.js';
import { RESOURCE_ID_LABEL } from '../../kinds/labels.js';
import { type ControllerDefinition, defineController, type PassContext } from '../framework/define.js';
import { type Collection, collectionsOf } from './collections.js';

const SQL = {
  existing: loadText(new URL('./sql/existing.sql', import.meta.url)),
  mark: loadText(new URL('./sql/mark.sql', import.meta.url)),
  recordDeletion: loadText(new URL('./sql/record-deletion.sql', import.meta.url)),
};

/** The default grace: an orphan is deleted once it has been one this long (10 minutes). */
export const DEFAULT_GC_GRACE_MS = 600_000;
/** The default wait between two passes (1 minute). */
export const DEFAULT_GC_RESYNC_MS = 60_000;

/** Options of {@link gcController}. */
export interface GcOptions {
  readonly leaderKey: LeaderKey;
  /** The backends, behind their resilience policies. */
  readonly ports: Omit<BackendPorts, 'webhook'>;
  /** Default {@link DEFAULT_GC_GRACE_MS}. */
  readonly graceMs?: number;
  /** Default {@link DEFAULT_GC_RESYNC_MS}. */
  readonly resyncMs?: number;
  /** Deletions per pass; default 100. */
  readonly batch?: number;
  /** Told of every deletion (logs, tests). */
  readonly onDelete?: (collection: string, backendId: string, resourceId: string) => void;
}

/** A labelled object whose resource does not exist. */
interface Orphan {
  readonly collection: string;
  readonly backendId: string;
  readonly resourceId: string;
}

const PAGE = 500;

/** Every object of `c` that carries a resource-id label, with the id it names. */
async function labelled(c: Collection, signal: AbortSignal): Promise<Orphan[]> {
  const out: Orphan[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.list({ signal, limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const o of page.items) {
      const resourceId = o.labels?.[RESOURCE_ID_LABEL];
      if (resourceId) out.push({ collection: c.name, backendId: o.id, resourceId });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** The orphans among every collection's labelled objects. */
async function findOrphans(ctx: PassContext, collections: readonly Collection[]): Promise<Orphan[]> {
  const seen = (await Promise.all(collections.map((c) => labelled(c, ctx.signal)))).flat();
  if (seen.length === 0) return [];
  const ids = [...new Set(seen.map((o) => o.resourceId))];
  const existing = new Set((await ctx.db.query(SQL.existing, [ids])).rows.map((r) => r.id as string));
  return seen.filter((o) => !existing.has(o.resourceId));
}

export function gcController(options: GcOptions): ControllerDefinition {
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const batch = options.batch ?? 100;
  const collections = collectionsOf(options.ports);
  const order = new Map(collections.map((c, i) => [c.name, i]));
  const byName = new Map(collections.map((c) => [c.name, c]));
  return defineController({
    name: 'garbage-collector',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? DEFAULT_GC_RESYNC_MS,
    // Orphans come from the backends, not from events: the resync finds them.
    wakeOnKinds: [],
    async pass(ctx) {
      const orphans = await findOrphans(ctx, collections);
      const now = ctx.now();
      const due = await ctx.fenced(async (tx) => {
        const res = await tx.query(SQL.mark, [
          orphans.map((o) => o.collection),
          orphans.map((o) => o.backendId),
          orphans.map((o) => o.resourceId),
          now,
          graceMs,
          ctx.epoch,
          batch,
        ]);
        return res.rows.map((r) => ({
          collection: r.backend as string,
          backendId: r.backend_id as string,
          resourceId: r.resource_id as string,
          firstSeenMs: Number(r.first_seen_ms),
          token: Number(r.token),
        }));
      });
      due.sort((a, b) => (order.get(a.collection) ?? 0) - (order.get(b.collection) ?? 0));
      let oldest: number | undefined;
      for (const d of due) {
        if (ctx.signal.aborted) break;
        const collection = byName.get(d.collection);
        if (!collection) continue;
        try {
          await collection.delete(d.backendId, {
            clientToken: `gc/${d.collection}/${d.backendId}`,
            fencingToken: d.token,
            signal: ctx.signal,
          });
        } catch (err) {
          // Something still on it (a network with an orphan instance the next pass deletes
          // first, or a user's object): left for a later pass. Gone already: recorded as done.
          if (isConflictError(err)) {
            oldest = Math.min(oldest ?? d.firstSeenMs, d.firstSeenMs);
            continue;
          }
          if (!isNotFoundError(err)) throw err;
        }
        await ctx.fenced((tx) =>
          tx.query(SQL.recordDeletion, [d.collection, d.backendId, ctx.now(), ctx.epoch, d.token]),
        );
        options.onDelete?.(d.collection, d.backendId, d.resourceId);
      }
      return {
        more: due.length === batch,
        lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest - graceMs),
      };
    },
  });
}
