// The system service behind `/v1/system` on an API process: reads of the node registry, the
// leadership journal, the queue, the outbox and the ledger, and the dead letters, over the
// stores every replica shares, so any replica answers for all of them.

import type { SystemService } from '../api/system/plugin.js';
import type { BreakerReportT, LeaderT, QueueReportT, ReplicaT } from '../api/system/schemas.js';
import { createDeadLetters, type DeadLetters } from '../control/redrive.js';
import { listControllerStatus } from '../controllers/framework/status.js';
import { drillReportsDir } from '../drill/report/reports-dir.js';
import type { Database } from '../ha/db/database.js';
import { readCurrentTerms, readRecentJournal } from '../ha/leader/journal.js';
import { readLedgerCounts } from '../ha/ledger/counts.js';
import { readOutboxBacklog } from '../ha/outbox/dead-letters.js';
import type { QueueAdmin } from '../ha/queue/port.js';
import type { BreakerReport } from './breaker-report.js';
import { type NodeRecord, type NodeRegistryOptions, nodeState, readNodes } from './node-registry.js';

/** Options of {@link createSystemService}. */
export interface SystemServiceOptions {
  readonly db: Database;
  /** The job queue, with the name and backend it reports under. */
  readonly queue: {
    readonly name: string;
    readonly backend: 'postgres' | 'redis-streams';
    readonly admin: Pick<QueueAdmin, 'stats'>;
  };
  /** The heartbeat and staleness bounds the node states are judged by. */
  readonly nodes?: NodeRegistryOptions;
  /** Default: listing and redrive over `db`. */
  readonly deadLetters?: DeadLetters;
  /** The directory of drill run directories `/v1/system/drill-reports` reads; none: not served. */
  readonly drillReportsDir?: string;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function isBreakerReport(value: unknown): value is BreakerReport {
  const r = value as Partial<BreakerReport> | null;
  return typeof r === 'object' && r !== null && typeof r.port === 'string' && typeof r.state === 'string';
}

/** Builds the system service over the shared stores. */
export function createSystemService(options: SystemServiceOptions): SystemService {
  const { db, queue } = options;
  const nodesOptions = options.nodes ?? {};
  const stateOf = (n: NodeRecord) => nodeState(n, nodesOptions);

  return {
    async replicas() {
      const nodes = await readNodes(db);
      const items: ReplicaT[] = nodes.map((n) => ({
        nodeId: n.nodeId,
        role: n.role,
        host: n.host,
        version: n.version,
        startedAt: n.startedAt.toISOString(),
        lastSeenAt: n.lastSeenAt.toISOString(),
        silentMs: Math.max(0, n.silentMs),
        state: stateOf(n),
        draining: n.drainingSince !== null && n.stoppedAt === null,
        drainingSince: iso(n.drainingSince),
        stoppedAt: iso(n.stoppedAt),
      }));
      return { items };
    },

    async leaders(query) {
      const [terms, journal, nodes] = await Promise.all([
        readCurrentTerms(db),
        readRecentJournal(db, query),
        readNodes(db),
      ]);
      const byNode = new Map(nodes.map((n) => [n.nodeId, stateOf(n)]));
      const items: LeaderT[] = terms
        .filter((t) => query.key === undefined || t.key === query.key)
        .map((t) => ({
          key: t.key,
          keyId: t.keyId,
          epoch: t.epoch,
          holder: t.holder,
          holderState: byNode.get(t.holder) ?? 'unknown',
          since: new Date(t.acquiredAt ?? t.updatedAt).toISOString(),
          open: t.endedAt === null,
        }));
      return {
        items,
        journal: journal.map((j) => ({
          key: j.key,
          keyId: j.keyId,
          epoch: j.epoch,
          holder: j.holder,
          acquiredAt: new Date(j.acquiredAt).toISOString(),
          endedAt: j.endedAt === null ? null : new Date(j.endedAt).toISOString(),
          reason: j.reason,
        })),
      };
    },

    async queues() {
      const [stats, backlog, ledger] = await Promise.all([
        queue.admin.stats(),
        readOutboxBacklog(db),
        readLedgerCounts(db),
      ]);
      const item: QueueReportT = {
        name: queue.name,
        backend: queue.backend,
        depth: stats.length,
        waiting: stats.lag,
        inFlight: stats.pending,
        oldestInFlightMs: stats.oldestPendingMs,
        delayed: stats.delayed,
        deadLetterStore: stats.deadLetters,
        outbox: backlog,
        ledger: {
          leased: ledger.leased,
          expired: ledger.expired,
          retrying: ledger.retrying,
          deadLettered: ledger.failed,
        },
      };
      return { items: [item] };
    },

    async breakers() {
      const items: BreakerReportT[] = [];
      for (const n of await readNodes(db)) {
        const state = stateOf(n);
        // A gone node's breakers say nothing about the backends any more.
        if (state === 'gone' || n.breakersAt === null || !Array.isArray(n.breakers)) continue;
        for (const b of n.breakers.filter(isBreakerReport))
          items.push({
            node: n.nodeId,
            nodeState: state,
            port: b.port,
            state: b.state,
            since: b.since,
            consecutiveFailures: b.consecutiveFailures,
            windowFailures: b.windowFailures,
            totalFailures: b.totalFailures,
            totalRejected: b.totalRejected,
            retryAfterMs: b.retryAfterMs,
            ...(Array.isArray(b.failFastMs) ? { failFastMs: [...b.failFastMs] } : {}),
            ...(Array.isArray(b.othersMs) ? { othersMs: [...b.othersMs] } : {}),
            reportedAt: n.breakersAt.toISOString(),
          });
      }
      return { items };
    },

    controllers: async () => ({ items: await listControllerStatus(db) }),

    deadLetters: options.deadLetters ?? createDeadLetters({ db }),
    ...(options.drillReportsDir === undefined
      ? {}
      : { drillReports: drillReportsDir(options.drillReportsDir) }),
  };
}
