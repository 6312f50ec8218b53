// A small run that keeps every guarantee, for the tests of the checker, the report and the
// gates: two tenants, a leader killed and re-elected, a worker killed and its job leased
// again, a breaker that failed fast. Tests derive the known-bad runs from it.

import type { DrillEvidence, FaultRecord, HistoryEvent } from '../evidence.js';
import type { DrillRun } from '../run-dir.js';

const history: HistoryEvent[] = [
  // req 1: a create by acme, first try.
  {
    type: 'invoke',
    req: 1,
    t: 100,
    tenant: 'acme',
    op: 'create',
    kind: 'instances',
    method: 'POST',
    path: '/v1/instances',
    idempotencyKey: 'k1',
  },
  { type: 'attempt', req: 1, t: 100, attempt: 1, status: 202, latencyMs: 12 },
  {
    type: 'complete',
    req: 1,
    t: 112,
    outcome: 'ok',
    status: 202,
    attempts: 1,
    resourceId: 'inst_a',
    operationId: 'op_1',
    tenantsSeen: ['acme'],
  },
  // req 2: a create by globex during the leader kill, first try.
  {
    type: 'invoke',
    req: 2,
    t: 1100,
    tenant: 'globex',
    op: 'create',
    kind: 'networks',
    method: 'POST',
    path: '/v1/networks',
    idempotencyKey: 'k2',
  },
  { type: 'attempt', req: 2, t: 1100, attempt: 1, status: 202, latencyMs: 70 },
  {
    type: 'complete',
    req: 2,
    t: 1170,
    outcome: 'ok',
    status: 202,
    attempts: 1,
    resourceId: 'net_b',
    tenantsSeen: ['globex'],
  },
  // req 3: acme lists during the worker kill, first try.
  {
    type: 'invoke',
    req: 3,
    t: 3100,
    tenant: 'acme',
    op: 'list',
    kind: 'instances',
    method: 'GET',
    path: '/v1/instances',
  },
  { type: 'attempt', req: 3, t: 3100, attempt: 1, status: 200, latencyMs: 4 },
  { type: 'complete', req: 3, t: 3104, outcome: 'ok', status: 200, attempts: 1, tenantsSeen: ['acme'] },
  // req 4: globex deletes a network of its own, retried once after a 503.
  {
    type: 'invoke',
    req: 4,
    t: 4200,
    tenant: 'globex',
    op: 'delete',
    kind: 'networks',
    method: 'DELETE',
    path: '/v1/networks/net_c',
    resourceId: 'net_c',
    idempotencyKey: 'k4',
  },
  { type: 'attempt', req: 4, t: 4200, attempt: 1, status: 503, failure: '503', latencyMs: 9 },
  { type: 'attempt', req: 4, t: 4250, attempt: 2, status: 202, latencyMs: 11 },
  { type: 'complete', req: 4, t: 4261, outcome: 'ok', status: 202, attempts: 2, tenantsSeen: ['globex'] },
];

const faults: FaultRecord[] = [
  {
    scenario: 'leader-kill',
    action: 'kill',
    target: 'leader:sweeper',
    resolved: 'api-1',
    startT: 1000,
    endT: 1500,
    leaderKey: 'sweeper',
  },
  {
    scenario: 'worker-kill',
    action: 'kill',
    target: 'worker',
    resolved: 'worker-1',
    startT: 3000,
    endT: 3600,
  },
];

const evidence: DrillEvidence = {
  version: 1,
  startedAt: '2026-12-02T05:00:00.000Z',
  scenarios: ['leader-kill', 'worker-kill'],
  seed: 7,
  replicas: { api: 2, worker: 2 },
  durationMs: 5000,
  ratePerS: 1,
  loadEndT: 5000,
  settledT: 6000,
  audit: {
    calls: 3,
    outcomes: { created: 2, 'refused-stale': 1 },
    duplicates: [],
    staleRefusals: 1,
    staleAcceptances: [],
    ok: true,
  },
  terms: [
    { key: 'sweeper', epoch: 1, holder: 'api-1', acquiredT: 0, endedT: 1000, reason: 'session lost' },
    { key: 'sweeper', epoch: 2, holder: 'api-2', acquiredT: 1250 },
    { key: 'lb-sync', epoch: 1, holder: 'api-2', acquiredT: 10 },
  ],
  jobs: [
    {
      key: 'reconcile/instances/inst_a/1',
      state: 'done',
      attempts: 2,
      leases: [
        { owner: 'worker-1', token: 1, startT: 2900 },
        { owner: 'worker-2', token: 2, startT: 4100 },
      ],
      finishedT: 4500,
    },
    {
      key: 'reconcile/networks/net_b/1',
      state: 'done',
      attempts: 1,
      leases: [{ owner: 'worker-2', token: 3, startT: 1300 }],
      finishedT: 1400,
    },
  ],
  resources: [
    {
      id: 'inst_a',
      tenant: 'acme',
      kind: 'instances',
      generation: 1,
      phase: 'Ready',
      observedGeneration: 1,
      deleting: false,
      backendId: 'i-inst_a',
      inTruth: true,
    },
    {
      id: 'net_b',
      tenant: 'globex',
      kind: 'networks',
      generation: 1,
      phase: 'Ready',
      observedGeneration: 1,
      deleting: false,
      backendId: 'n-net_b',
      inTruth: true,
    },
  ],
  breakers: [{ node: 'worker-2', breaker: 'compute', failFastMs: [0.01, 0.02, 0.03], othersMs: [3, 4, 5] }],
  controllers: {
    cron: {
      jobs: 2,
      unjudged: 0,
      untilMs: 1_700_000_010_000,
      caughtUp: true,
      owed: 20,
      excused: 1,
      recorded: 19,
      delivered: 19,
      gaps: 0,
      doubles: 0,
      unexpected: 0,
      examples: [],
    },
    accounting: {
      minuteMs: 10_000,
      resources: 2,
      untilMs: 1_700_000_010_000,
      caughtUp: true,
      owed: 6,
      recorded: 6,
      gaps: 0,
      doubles: 0,
      outside: 0,
      examples: [],
    },
    databases: { databases: 1, changes: 3, promotions: 1, twoWritable: 0, examples: [] },
  },
  fencedWrites: [
    { key: 'sweeper', epoch: 1, t: 900, accepted: true },
    { key: 'sweeper', epoch: 1, t: 1100, accepted: false },
    { key: 'sweeper', epoch: 2, t: 1300, accepted: true },
  ],
};

/** A fresh copy of the good run (tests may change it freely). */
export function goodRun(): DrillRun {
  return structuredClone({ history, faults, evidence });
}
