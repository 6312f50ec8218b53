// The schemas of `/v1/system`: the query strings the routes validate with, and the answers they
// send. The types of the system service come from the same objects (Static), and the OpenAPI
// document names each answer as a component, so the CLI and the console read one contract.

import Type, { type Static } from 'typebox';
import { ref } from '../openapi/schemas.js';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Count = Type.Integer({ minimum: 0 });

/** Largest page of a system listing. */
export const MAX_SYSTEM_LIMIT = 500;
/** Default page of a system listing. */
export const DEFAULT_SYSTEM_LIMIT = 50;

const Limit = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: MAX_SYSTEM_LIMIT,
    description: `page size, default ${DEFAULT_SYSTEM_LIMIT}`,
  }),
);

/** How a node looks from its last heartbeat. */
export const NodeState = Type.Union([Type.Literal('live'), Type.Literal('suspect'), Type.Literal('gone')], {
  description:
    'live: heartbeats arrive; suspect: silent for two heartbeat intervals; gone: stopped, or silent past the staleness bound',
});

export const Replica = Type.Object(
  {
    nodeId: Type.String(),
    role: Type.Union([Type.Literal('api'), Type.Literal('worker'), Type.Literal('all')]),
    host: Type.String(),
    version: Type.String(),
    startedAt: DateTime,
    lastSeenAt: DateTime,
    /** Database clock. */
    silentMs: Type.Number({ minimum: 0, description: 'since the last heartbeat (database clock)' }),
    state: NodeState,
    draining: Type.Boolean({ description: 'shutting down: readiness off, in-flight work finishing' }),
    drainingSince: Nullable(DateTime),
    stoppedAt: Nullable(DateTime),
  },
  { $id: 'Replica' },
);

export const ReplicaList = Type.Object({ items: Type.Array(ref('Replica')) }, { $id: 'ReplicaList' });

export const Leader = Type.Object(
  {
    key: Type.String(),
    keyId: Type.Integer(),
    epoch: Type.Integer({ minimum: 1 }),
    holder: Type.String({ description: 'node id of the holder of the current epoch' }),
    holderState: Type.Union([NodeState, Type.Literal('unknown')], {
      description: 'the holder in the node registry; unknown when it is not there',
    }),
    since: DateTime,
    open: Type.Boolean({ description: 'the term is not closed: no step-down and no successor yet' }),
  },
  { $id: 'Leader' },
);

export const Term = Type.Object(
  {
    key: Type.String(),
    keyId: Type.Integer(),
    epoch: Type.Integer({ minimum: 1 }),
    holder: Type.String(),
    acquiredAt: DateTime,
    endedAt: Nullable(DateTime),
    reason: Nullable(
      Type.String({ description: '`superseded` (closed by the next leader) or the step-down reason' }),
    ),
  },
  { $id: 'Term' },
);

export const LeaderList = Type.Object(
  {
    items: Type.Array(ref('Leader')),
    journal: Type.Array(ref('Term'), { description: 'recent terms, newest first' }),
  },
  { $id: 'LeaderList' },
);

export const LeadersQuery = Type.Object(
  {
    key: Type.Optional(
      Type.String({ pattern: '^[a-z][a-z0-9-]{0,39}$', description: 'one leadership key, by name' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SYSTEM_LIMIT,
        description: `journal entries, default ${DEFAULT_SYSTEM_LIMIT}`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const QueueReport = Type.Object(
  {
    name: Type.String(),
    backend: Type.Union([Type.Literal('postgres'), Type.Literal('redis-streams')]),
    depth: Type.Integer({
      minimum: 0,
      description: 'messages in the queue, handed out or not (delayed excluded)',
    }),
    waiting: Type.Integer({ minimum: 0, description: 'messages not yet handed out' }),
    inFlight: Type.Integer({ minimum: 0, description: 'messages handed out and not acked' }),
    oldestInFlightMs: Type.Number({ minimum: 0 }),
    delayed: Type.Integer({ minimum: 0, description: 'messages waiting for a delayed retry' }),
    deadLetterStore: Type.Integer({
      minimum: 0,
      description:
        "the queue's dead-letter store (a copy of each dead letter's last message; kept after a redrive)",
    }),
    outbox: Type.Object({
      waiting: Type.Integer({ minimum: 0, description: 'jobs committed and not yet on the queue' }),
      oldestMs: Type.Number({ minimum: 0 }),
    }),
    ledger: Type.Object({
      leased: Type.Integer({ minimum: 0, description: 'jobs running under a live lease' }),
      expired: Type.Integer({ minimum: 0, description: 'jobs whose lease ran out (their worker died)' }),
      retrying: Type.Integer({ minimum: 0, description: 'jobs waiting for a retry or a redrive pick-up' }),
      deadLettered: Type.Integer({
        minimum: 0,
        description: 'jobs failed for good: see /v1/system/dead-letters',
      }),
    }),
  },
  { $id: 'QueueReport' },
);

export const QueueList = Type.Object({ items: Type.Array(ref('QueueReport')) }, { $id: 'QueueList' });

export const BreakerReport = Type.Object(
  {
    node: Type.String(),
    nodeState: NodeState,
    port: Type.String({ description: 'compute, network, storage, dns, loadBalancer, webhook' }),
    state: Type.Union(
      [Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open'), Type.Literal('isolated')],
      { description: 'isolated: held open by hand' },
    ),
    since: DateTime,
    consecutiveFailures: Count,
    windowFailures: Count,
    totalFailures: Count,
    totalRejected: Count,
    retryAfterMs: Nullable(Type.Integer({ minimum: 0 })),
    failFastMs: Type.Optional(
      Type.Array(Type.Number({ minimum: 0 }), {
        description: 'latest latencies of calls the open breaker refused, ms',
      }),
    ),
    othersMs: Type.Optional(
      Type.Array(Type.Number({ minimum: 0 }), {
        description: "latest latencies of other backends' successful calls while this one stalled, ms",
      }),
    ),
    reportedAt: DateTime,
  },
  { $id: 'BreakerReport' },
);

export const BreakerList = Type.Object({ items: Type.Array(ref('BreakerReport')) }, { $id: 'BreakerList' });

const OperationWithTenant = Type.Intersect([ref('Operation'), Type.Object({ tenant: Type.String() })]);
const JobResource = Type.Object({
  kind: Type.String(),
  id: Type.String(),
  generation: Type.Integer({ minimum: 1 }),
});

export const DeadLetter = Type.Object(
  {
    jobKey: Type.String(),
    kind: Nullable(Type.String({ description: 'the job kind; null when not enqueued through the outbox' })),
    attempts: Count,
    maxAttempts: Nullable(Type.Integer({ minimum: 1 })),
    lastError: Nullable(Type.String()),
    enqueuedAt: Nullable(DateTime),
    firstAttemptAt: DateTime,
    failedAt: Nullable(DateTime),
    reported: Type.Boolean(),
    redrives: Count,
    resource: Nullable(JobResource),
    operation: Nullable(OperationWithTenant),
  },
  { $id: 'DeadLetter' },
);

export const DeadLetterPage = Type.Object(
  { items: Type.Array(ref('DeadLetter')), nextCursor: Type.Optional(Type.String()) },
  { $id: 'DeadLetterPage' },
);

export const DeadLettersQuery = Type.Object(
  {
    limit: Limit,
    cursor: Type.Optional(Type.String({ maxLength: 400, description: 'nextCursor of the previous page' })),
    kind: Type.Optional(
      Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'only dead letters of this job kind' }),
    ),
  },
  { additionalProperties: false },
);

export const DeadLetterParams = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 255, description: 'the job key, URL-encoded (`/` as %2F)' }),
});

export const DrillReportParams = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'a run directory of --drill-reports-dir: letters, digits, `.`, `_`, `-`',
  }),
});

export const DrillReportSummary = Type.Object(
  {
    name: Type.String(),
    startedAt: Nullable(DateTime),
    scenarios: Type.Array(Type.String()),
    headline: Nullable(Type.String()),
    passed: Nullable(Type.Boolean()),
    timeline: Type.Boolean({ description: 'whether the run holds timeline.svg' }),
  },
  { $id: 'DrillReportSummary' },
);

export const DrillReportList = Type.Object(
  { items: Type.Array(ref('DrillReportSummary')) },
  { $id: 'DrillReportList' },
);

export const DrillReport = Type.Object(
  {
    version: Type.Integer(),
    meta: Type.Object({}, { additionalProperties: true }),
    headline: Type.String(),
    result: Type.Object({}, { additionalProperties: true }),
    gates: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
    passed: Type.Boolean(),
  },
  { $id: 'DrillReport', description: 'report.json of the run, as `stratus drill report` wrote it' },
);

export const RedriveAccepted = Type.Object(
  {
    jobKey: Type.String(),
    kind: Type.String(),
    redrive: Type.Object({ id: Type.Integer({ minimum: 1 }), at: DateTime }),
    previous: Type.Object({ attempts: Count, lastError: Nullable(Type.String()) }),
    resource: Nullable(JobResource),
    operation: Nullable(ref('Operation')),
  },
  { $id: 'RedriveAccepted' },
);

/** A singleton controller as its leader last reported it (src/controllers/framework). */
export const ControllerReport = Type.Object(
  {
    name: Type.String(),
    leader: Type.String({ description: 'node id of the leader that reported last' }),
    epoch: Type.Integer({ minimum: 1, description: 'the term of that report' }),
    passes: Count,
    errors: Count,
    lastError: Nullable(Type.String()),
    lastErrorAt: Nullable(DateTime),
    lastPassStartedAt: DateTime,
    lastPassEndedAt: DateTime,
    lastPassMs: Type.Number({ minimum: 0 }),
    lagMs: Nullable(
      Type.Number({ description: 'how far behind the world the controller was after its last pass' }),
    ),
    reportedAt: DateTime,
  },
  { $id: 'ControllerReport' },
);

export const ControllerList = Type.Object(
  { items: Type.Array(ref('ControllerReport')) },
  { $id: 'ControllerList' },
);

/** The named answer schemas, for the OpenAPI document. */
export const systemSchemas = [
  ControllerReport,
  ControllerList,
  Replica,
  ReplicaList,
  Leader,
  Term,
  LeaderList,
  QueueReport,
  QueueList,
  BreakerReport,
  BreakerList,
  DeadLetter,
  DeadLetterPage,
  RedriveAccepted,
  DrillReportSummary,
  DrillReportList,
  DrillReport,
];

export type ReplicaT = Static<typeof Replica>;
export type LeaderT = Static<typeof Leader>;
export type TermT = Static<typeof Term>;
export type QueueReportT = Static<typeof QueueReport>;
export type BreakerReportT = Static<typeof BreakerReport>;
export type ControllerReportT = Static<typeof ControllerReport>;
