// A cascading delete holds each resource's delete until its last dependent is gone
// (service.ts, reconcile.ts). When a dependent's delete fails for good (its last attempt, a
// terminal backend error, a dead letter), the held delete can never start: it fails too, naming
// the dependent, and so on up the chain, so that no operation stays `pending` for ever and the
// resource answers "why is it stuck?" by itself (Ready=False, reason DependentDeleteFailed).
// A new DELETE of a failed delete starts over (service.ts).

import { setCondition } from '../core/resources/resource.js';
import type { Database, Queryable } from '../ha/db/database.js';
import * as store from './store.js';

/** The reason a held delete fails with. */
export const DEPENDENT_DELETE_FAILED = 'DependentDeleteFailed';

/**
 * Fails every delete held for `dependentId`, whose own delete failed for good, and the deletes
 * held for those in turn, in one transaction. Resolves with the ids of the resources failed.
 */
export async function failHeldDeletes(
  db: Database,
  dependentId: string,
  now: () => Date = () => new Date(),
): Promise<string[]> {
  return db.transaction(async (tx) => {
    const failed: string[] = [];
    const walk = async (q: Queryable, dependent: string): Promise<void> => {
      for (const held of await store.lockHeldDeletesOf(q, dependent)) {
        const error = {
          reason: DEPENDENT_DELETE_FAILED,
          message: `the delete of dependent ${dependent} failed; delete this resource again to retry`,
        };
        const status = {
          ...held.status,
          phase: 'Failed' as const,
          conditions: setCondition(
            held.status.conditions,
            { type: 'Ready', status: 'False', ...error, observedGeneration: held.generation },
            now(),
          ),
        };
        if (!(await store.failHeldDelete(q, held.id, held.generation, status, error))) continue;
        failed.push(held.id);
        await walk(q, held.id);
      }
    };
    await walk(tx, dependentId);
    return failed;
  });
}
