// What a drill records and its checker reads (DESIGN.md §11). A run writes one directory:
//
//   history.ndjson   one HistoryEvent per line, as the load client saw its requests
//   faults.json      FaultRecord[]: every fault injected, when, on what, and when it ended
//   evidence.json    DrillEvidence: the rest, collected once the load stopped and the cluster
//                    settled (the simulator's audit and truth, the journal, the ledger, the
//                    resources as the API shows them, breaker observations)
//
// The checker (`check`) and the report are pure functions of these files, so `stratus drill
// report DIR` re-renders a run and the checker's tests feed it histories known to be bad.

import type { AuditSummary } from '../sim/audit/summary.js';

/**
 * Milliseconds since the drill's start (its `t0`); every record's clock. Negative for what
 * happened while the cluster started (its first leaders' terms, leases taken before the load).
 */
export type DrillTime = number;

/** The operations the load mixes. */
export type LoadOp = 'create' | 'update' | 'action' | 'delete' | 'get' | 'list';

/** A logical request starting: every retry of it shares `req` and its Idempotency-Key. */
export interface Invocation {
  readonly type: 'invoke';
  /** Unique per logical request within the run. */
  readonly req: number;
  readonly t: DrillTime;
  /** The tenant whose key sent it. */
  readonly tenant: string;
  readonly op: LoadOp;
  readonly kind: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** The resource it is about, when known before sending (not for a create). */
  readonly resourceId?: string;
  readonly idempotencyKey?: string;
}

/** One try of a logical request. */
export interface Attempt {
  readonly type: 'attempt';
  readonly req: number;
  readonly t: DrillTime;
  /** 1 for the first try. */
  readonly attempt: number;
  /** The HTTP status, when an answer came. */
  readonly status?: number;
  /** Why no usable answer came: 'timeout', 'ECONNREFUSED', 'ECONNRESET', '503'... */
  readonly failure?: string;
  readonly latencyMs: number;
}

/** A logical request ending: answered for good, or given up after its retries. */
export interface Completion {
  readonly type: 'complete';
  readonly req: number;
  readonly t: DrillTime;
  /** ok: a final answer the client accepts (2xx, or an expected 4xx such as 404 after a delete). */
  readonly outcome: 'ok' | 'fail';
  readonly status?: number;
  readonly attempts: number;
  /** The resource the answer names (a create's new id). */
  readonly resourceId?: string;
  /** The operation the answer returned, when one was (202). */
  readonly operationId?: string;
  /** The tenant of every resource, operation or event in the answer body (G7). */
  readonly tenantsSeen?: readonly string[];
  /** The last failure, for a `fail`. */
  readonly error?: string;
}

export type HistoryEvent = Invocation | Attempt | Completion;

/** What a scenario step does. */
export type FaultAction =
  | 'kill' // SIGKILL, then start the replica again
  | 'pause' // SIGSTOP for `for`, then SIGCONT
  | 'restart' // SIGTERM (graceful), then start again
  | 'drop-db-sessions' // pg_terminate_backend of the target's sessions
  | 'blackhole-db' // the target's PostgreSQL traffic dropped for `for`
  | 'blackhole-redis' // the target's Redis traffic dropped for `for`
  | 'redis-flushall' // FLUSHALL on the drill's own Redis
  | 'redis-restart' // the drill's own Redis stopped and started again
  | 'backend-outage' // simulator fault rule: calls fail for `for`
  | 'backend-slow' // simulator fault rule: calls slowed for `for`
  | 'backend-hang' // simulator fault rule: calls hang for `for`
  | 'database-primary-down' // a managed database's primary down in the simulator for `for`
  | 'rolling-restart'; // every replica restarted gracefully, one at a time

/**
 * A target: `api`, `worker` (any replica of the role, chosen by the seed), `api-1` (a replica
 * by name), `leader:<key>` (whoever leads that key when the step runs), `redis`, `backend:<port>`
 * (compute, network, storage, dns, lb), `all`.
 */
export type FaultTarget = string;

/** One step of a scenario, as written in a scenario file. */
export interface FaultStep {
  /** When, from the start of the load. */
  readonly atMs: number;
  readonly action: FaultAction;
  readonly target: FaultTarget;
  /** How long the fault lasts (pause, blackhole, backend faults); 0 or absent: instantaneous. */
  readonly forMs?: number;
}

/** A scenario: named steps (the shipped ones live in `drills/scenarios/`). */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly steps: readonly FaultStep[];
  /**
   * A generated scenario (`chaos`): a step every `everyMs`, each drawn by the seed from the
   * steps of the shipped scenarios; `steps` is then empty.
   */
  readonly chaos?: { readonly everyMs: number };
}

/** A fault as it was injected. */
export interface FaultRecord {
  readonly scenario: string;
  readonly action: FaultAction;
  /** The target as written, and what it resolved to (node id, pid, Redis port...). */
  readonly target: FaultTarget;
  readonly resolved: string;
  readonly startT: DrillTime;
  /** When the fault ended (the replica restarted and ready, the blackhole lifted...). */
  readonly endT: DrillTime;
  /** For a fault on a leader: the key it led. */
  readonly leaderKey?: string;
  /**
   * How long the step waited, once its replica was free, for HAProxy to show another api
   * replica UP (a fault on an api replica never leaves none serving).
   */
  readonly deferredMs?: number;
}

/** One row of stratus_leadership_journal. */
export interface TermRecord {
  readonly key: string;
  readonly epoch: number;
  readonly holder: string;
  readonly acquiredT: DrillTime;
  /** Absent while the term is still held. */
  readonly endedT?: DrillTime;
  readonly reason?: string;
}

/** One job as the ledger and the worker logs tell it: each lease taken of it. */
export interface JobRecord {
  readonly key: string;
  readonly state: string;
  readonly attempts: number;
  readonly leases: ReadonlyArray<{
    readonly owner: string;
    readonly token: number;
    readonly startT: DrillTime;
    /** The last time the drill saw it running, when it sampled it (absent: not sampled). */
    readonly lastSeenT?: DrillTime;
  }>;
  readonly finishedT?: DrillTime;
}

/** A resource at the end: the API's view beside the simulator's truth. */
export interface ResourceRecord {
  readonly id: string;
  readonly tenant: string;
  readonly kind: string;
  readonly generation: number;
  readonly phase: string;
  readonly observedGeneration?: number;
  readonly deleting: boolean;
  /** The backend object the status names, and whether the simulator has it. */
  readonly backendId?: string;
  readonly inTruth?: boolean;
  /** Where the API's status and the simulator's truth disagree (power state, size...). */
  readonly mismatch?: string;
  /** A `Failed` resource's Ready condition: `<reason>: <message>`, so the report says why. */
  readonly failure?: string;
  /**
   * The generation its Ready condition speaks of: a `Failed` one's is the generation whose last
   * attempt failed (the status's `observedGeneration` stays the last one applied).
   */
  readonly readyGeneration?: number;
}

/** A breaker observation: how fast calls failed while it was open (G6). */
export interface BreakerRecord {
  readonly node: string;
  readonly breaker: string;
  /** Open-state fail-fast latencies, ms. */
  readonly failFastMs: readonly number[];
  /** Calls to other backends while this one stalled: their latencies, ms. */
  readonly othersMs: readonly number[];
  /** The breaker's state when the drill read it (/v1/system/breakers). */
  readonly state?: string;
  /** Calls it failed fast over the process's life. */
  readonly totalRejected?: number;
  readonly totalFailures?: number;
}

/**
 * A write a singleton made under a term, fenced by the database (G3): `accepted` when the
 * fence let it through. The checker flags an accepted one whose term had ended by `t`.
 */
export interface FencedWriteRecord {
  readonly key: string;
  readonly epoch: number;
  readonly t: DrillTime;
  readonly accepted: boolean;
}

/**
 * The singleton controllers' own audits at the end of a run (G1: nothing missing; G2: nothing
 * twice; G3: no split brain), as counts with a few examples of each violation.
 */
export interface ControllersRecord {
  /** Every slot of every cron job fired once, none missing but what the skip policy allows. */
  readonly cron: {
    /** Jobs judged, and jobs not judged (paused or rescheduled: no one schedule to owe). */
    readonly jobs: number;
    readonly unjudged: number;
    /** Slots up to this instant (ms since the Unix epoch) were owed. */
    readonly untilMs: number;
    /** Whether the controller had decided every slot up to it within the wait. */
    readonly caughtUp: boolean;
    readonly owed: number;
    /** Owed slots the skip policy let go (they came due while no leader ran). */
    readonly excused: number;
    readonly recorded: number;
    readonly delivered: number;
    readonly gaps: number;
    readonly doubles: number;
    readonly unexpected: number;
    readonly examples: readonly string[];
  };
  /** Every minute of every resource's life recorded once, with no gaps. */
  readonly accounting: {
    readonly minuteMs: number;
    readonly resources: number;
    readonly untilMs: number;
    readonly caughtUp: boolean;
    readonly owed: number;
    readonly recorded: number;
    readonly gaps: number;
    readonly doubles: number;
    /** Minutes recorded outside their resource's life. */
    readonly outside: number;
    readonly examples: readonly string[];
  };
  /** Never two writable primaries of one managed database (the simulator's history). */
  readonly databases: {
    readonly databases: number;
    /** Changes of who takes writes, and the promotions among them (failovers done). */
    readonly changes: number;
    readonly promotions: number;
    readonly twoWritable: number;
    readonly examples: readonly string[];
  };
}

/** Everything but the history and the faults. */
export interface DrillEvidence {
  readonly version: 1;
  readonly startedAt: string;
  readonly scenarios: readonly string[];
  readonly seed: number;
  readonly replicas: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly ratePerS: number;
  /** When the load stopped and when the cluster was declared settled. */
  readonly loadEndT: DrillTime;
  readonly settledT: DrillTime;
  readonly audit: AuditSummary;
  readonly terms: readonly TermRecord[];
  readonly jobs: readonly JobRecord[];
  readonly resources: readonly ResourceRecord[];
  readonly breakers: readonly BreakerRecord[];
  /**
   * Resources whose deletion the control plane recorded (a DeletionRequested event): asked by
   * a client's delete, or by a cascade from one (G1: their absence is no loss).
   */
  readonly deletionRequested?: readonly string[];
  /** The fenced writes of the singletons, when the drill collected them (G3). */
  readonly fencedWrites?: readonly FencedWriteRecord[];
  /** Steps that could not be injected (an unknown leader, a replica that would not start). */
  readonly faultErrors?: ReadonlyArray<{
    readonly scenario: string;
    readonly action: FaultAction;
    readonly target: FaultTarget;
    readonly atMs: DrillTime;
    readonly error: string;
    /** Not injected on purpose (no other api replica UP in HAProxy in time), not a failure. */
    readonly skipped?: boolean;
  }>;
  /** What the load did: logical requests sent, shed at the in-flight bound, ended ok or not. */
  readonly load?: {
    readonly sent: number;
    readonly shed: number;
    readonly ok: number;
    readonly failed: number;
  };
  /** The singleton controllers' audits, when the drill collected them. */
  readonly controllers?: ControllersRecord;
  /** What had not settled at the settle deadline (all zero when the cluster settled). */
  readonly unsettled?: { readonly operations: number; readonly jobs: number };
}
