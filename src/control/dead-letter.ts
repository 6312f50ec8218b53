// The worker's dead-letter hook for reconcile jobs. The handler records every failure it sees,
// but a pass that hung past its timeout and grace, or whose worker died during the last
// attempt, never got to: without this hook its operation would stay `running` for ever.

import { setCondition } from '../core/resources/resource.js';
import type { Database } from '../ha/db/database.js';
import type { DeadLetterInfo } from '../ha/worker/types.js';
import { failHeldDeletes } from './held-delete.js';
import { parseReconcilePayload, RECONCILE_JOB } from './jobs.js';
import * as store from './store.js';

/** Builds the hook; it ignores jobs of other kinds. */
export function createDeadLetterHook(db: Database, now: () => Date = () => new Date()) {
  return async (info: DeadLetterInfo): Promise<void> => {
    const job = info.job;
    if (!job || job.kind !== RECONCILE_JOB) return;
    const payload = parseReconcilePayload(job.payload);
    if (!payload) return;
    const resource = await store.loadResource(db, payload.id);
    const error = { reason: 'DeadLettered', message: `gave up on the change: ${info.reason}` };
    const status = resource && {
      ...resource.status,
      phase: 'Failed' as const,
      conditions: setCondition(
        resource.status.conditions,
        { type: 'Ready', status: 'False', ...error, observedGeneration: payload.generation },
        now(),
      ),
    };
    // Without the resource (deleted meanwhile) only the operation changes; the status written
    // is then never used, the statement matches no resource row.
    const failed = await store.failDeadLettered(
      db,
      job.key,
      payload.id,
      error,
      status ?? { phase: 'Failed', conditions: [], observedGeneration: 0 },
    );
    // A dead-lettered delete fails the deletes a cascade held for it, as a last attempt does.
    if (failed && resource?.deletionRequestedAt) await failHeldDeletes(db, payload.id, now);
  };
}
