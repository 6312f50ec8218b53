// The resource model and the kind definitions' types (DESIGN.md §7, §8).
export type { FieldError } from './field-error.js';
export { newId } from './ids.js';
export {
  type ActionDefinition,
  type AdmissionContext,
  type Driver,
  type DriverContext,
  defineKind,
  type KindDefinition,
  type Observation,
  type ReferenceDefinition,
  type ReferenceValue,
  referenceValues,
  valueAt,
} from './kind.js';
export { isReconcileError, ReconcileError } from './reconcile-error.js';
export { KindRegistry } from './registry.js';
export * from './resource.js';
