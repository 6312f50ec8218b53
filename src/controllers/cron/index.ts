/** Cron: each slot of each cron job fired exactly once (docs/controllers.md). */
export {
  type AuditedJob,
  type CronAudit,
  type CronAuditWindow,
  type CronViolation,
  cronViolations,
  type DeliveredCall,
  type RecordedSlot,
} from './audit.js';
export { type CronOptions, cronController, DEFAULT_CRON_RESYNC_MS } from './controller.js';
export { type Cursor, type Plan, type PlannedJob, planSlots } from './plan.js';
export { readCronSlots } from './read-audit.js';
export { type CronRun, type CronRunStore, createCronRunStore } from './runs-store.js';
export { slotToken } from './slots.js';
