/** Accounting: every minute of every resource's life recorded once (docs/controllers.md). */
export {
  type AccountingAudit,
  type AccountingViolation,
  type AuditWindow,
  accountingViolations,
  type Lifetime,
  owedMinutes,
  type UsageMinute,
} from './audit.js';
export { type AccountingOptions, accountingController, DEFAULT_ACCOUNTING_MINUTE_MS } from './controller.js';
export { type MinutePrice, minutePrices } from './prices.js';
export { readAccounting } from './read-audit.js';
export { type RecordBatch, type RecordedBatch, recordMinutes } from './record.js';
export {
  type BillingLine,
  createUsageStore,
  type UsageQuery,
  type UsageRecord,
  type UsageStore,
} from './usage-store.js';
