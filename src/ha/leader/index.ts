/** Leader election with fencing: see docs/leader-election.md. */
export { type BackoffOptions, backoffDelay } from './backoff.js';
export { EpochGate } from './epoch-gate.js';
export {
  ElectionError,
  FenceDeadlineError,
  isElectionError,
  isFenceDeadlineError,
  isLeadershipLostError,
  isStaleEpochError,
  LeaderErrorCode,
  LeadershipLostError,
  type LossReason,
  StaleEpochError,
  type StaleReason,
} from './errors.js';
export { assertEpoch, type FencedTransactionOptions, fencedTransaction } from './fence.js';
export { type GuardEvent, LeaderGuard, type LeaderGuardOptions, type Singleton } from './guard.js';
export { type JournalEntry, readJournal, readTerms, type TermRow } from './journal.js';
export {
  FIRST_APPLICATION_KEY_ID,
  isLeaderKeyConflictError,
  type LeaderKey,
  LeaderKeyConflictError,
  LeaderKeyRegistry,
  leaderKeys,
} from './keys.js';
export { MemoryElector, MemoryLeadership } from './memory-elector.js';
export { createLeaderMetrics, type LeaderMetrics } from './metrics.js';
export { createPgElector, PgElector, type PgElectorOptions } from './pg-elector.js';
export type { Elector, Fence, LeaderLogger, LeaderTerm } from './port.js';
export {
  defaultElectorSettings,
  defaultFenceSettings,
  defaultGuardSettings,
  type ElectorSettings,
  type FenceSettings,
  type GuardSettings,
  resolveElectorSettings,
} from './settings.js';
