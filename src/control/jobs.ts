import type { Queryable } from '../ha/db/database.js';
import { enqueue, enqueueQuiet } from '../ha/outbox/outbox.js';

/** The job kind of the one reconcile handler, for every resource kind. */
export const RECONCILE_JOB = 'reconcile';

/** The payload of a reconcile job. */
export interface ReconcilePayload {
  readonly kind: string;
  readonly id: string;
  readonly generation: number;
}

/** `reconcile/<kind>/<id>/<generation>`: the ledger key, and the client token backends see. */
export function reconcileJobKey(p: ReconcilePayload): string {
  return `reconcile/${p.kind}/${p.id}/${p.generation}`;
}

/** The payload of a reconcile job, or undefined when it is not one. */
export function parseReconcilePayload(value: unknown): ReconcilePayload | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Record<string, unknown>;
  if (typeof p.kind !== 'string' || typeof p.id !== 'string' || !Number.isInteger(p.generation))
    return undefined;
  return { kind: p.kind, id: p.id, generation: p.generation as number };
}

/**
 * Writes the reconcile job of one generation into the outbox, in the caller's transaction. `quiet`
 * sends no NOTIFY: the caller wakes the relays after its COMMIT (see `createRelayWaker`).
 */
export async function enqueueReconcile(
  tx: Queryable,
  p: ReconcilePayload,
  maxAttempts: number,
  options: { readonly quiet?: boolean; readonly trace?: string | undefined } = {},
): Promise<void> {
  await (options.quiet ? enqueueQuiet : enqueue)(tx, {
    key: reconcileJobKey(p),
    kind: RECONCILE_JOB,
    payload: { kind: p.kind, id: p.id, generation: p.generation },
    maxAttempts,
    ...(options.trace === undefined ? {} : { trace: options.trace }),
  });
}
