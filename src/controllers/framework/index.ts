/** The singleton controller framework: see docs/controllers.md. */
export { type ControllerDefinition, defineController, type PassContext, type PassResult } from './define.js';
export { type ControllerDeps, controllerGuard } from './guard.js';
export { type ControllerMetrics, createControllerMetrics } from './metrics.js';
export { type ControllerStatus, listControllerStatus, type PassReport, recordPass } from './status.js';
export { type EventWakeOptions, eventWake, manualWake, type WakeListener, type WakeSource } from './wake.js';
