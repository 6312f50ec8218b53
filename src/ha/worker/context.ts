import type { JobLogger } from '../job/logger.js';
import type { Waker } from '../job/wake.js';
import type { ExecutionLedger } from '../ledger/port.js';
import type { QueueAdmin, QueueConsumer } from '../queue/port.js';
import type { JobTable } from './job-table.js';
import type { LedgerBatcher } from './ledger-batcher.js';
import type { KindMetrics, WorkerMetrics } from './metrics.js';
import type { ResolvedHandler } from './registrations.js';
import type { WorkerSettings } from './settings.js';
import type { DeadLetterInfo } from './types.js';

/** What the parts of one worker share: its ports, its settings and its table of held jobs. */
export interface WorkerContext {
  readonly nodeId: string;
  readonly ledger: ExecutionLedger;
  readonly batcher: LedgerBatcher;
  readonly queue: QueueConsumer & QueueAdmin;
  readonly logger: JobLogger;
  readonly metrics: WorkerMetrics;
  readonly perKind: (kind: string) => KindMetrics;
  readonly table: JobTable;
  readonly handlers: Map<string, ResolvedHandler>;
  readonly settings: WorkerSettings;
  /** Woken whenever a held job is done or a handler slot frees. */
  readonly slotFreed: Waker;
  readonly onDeadLetter: ((info: DeadLetterInfo) => unknown) | undefined;
  readonly random: () => number;
  /** Set once the drain began: nothing new starts. */
  stopping: boolean;
}

/** Log fields of a held job. */
export const logFields = (h: {
  job: { key: string; kind: string };
  lease?: { attempt: number } | undefined;
}) => ({ jobKey: h.job.key, attempt: h.lease?.attempt, kind: h.job.kind });
