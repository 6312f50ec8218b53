// The generic resource machinery (DESIGN.md §4, §8): one store, one service, one reconcile job.
export * from './errors.js';
export { RECONCILE_JOB, type ReconcilePayload, reconcileJobKey } from './jobs.js';
export { applyMergePatch } from './merge-patch.js';
export { createReconcileHandler, type PassOutcome, type ReconcilerOptions } from './reconcile.js';
export {
  type Accepted,
  createResourceService,
  type ResourceService,
  type ResourceServiceOptions,
} from './service.js';
export {
  isTerminal,
  type ListQuery,
  type Operation,
  type OperationState,
  type OperationVerb,
} from './store.js';
export { bodySchema, validateBody } from './validation.js';
