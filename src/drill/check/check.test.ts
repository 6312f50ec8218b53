import { describe, expect, it } from 'vitest';
import type { DrillEvidence, HistoryEvent } from '../evidence.js';
import type { DrillRun } from '../run-dir.js';
import { check, type GuaranteeId } from './index.js';
import { goodRun } from './testing.js';

function withEvidence(run: DrillRun, change: Partial<DrillEvidence>): DrillRun {
  return { ...run, evidence: { ...run.evidence, ...change } };
}

/** Only `guarantee` fails, and one of its violations matches `pattern`. */
function expectOnlyFails(run: DrillRun, guarantee: GuaranteeId, pattern: RegExp) {
  const result = check(run);
  expect(result.ok).toBe(false);
  const failing = Object.entries(result.guarantees)
    .filter(([, g]) => !g.ok)
    .map(([id]) => id);
  expect(failing).toEqual([guarantee]);
  expect(result.guarantees[guarantee].violations.some((v) => pattern.test(v))).toBe(true);
  return result.guarantees[guarantee];
}

describe('check', () => {
  it('passes a good run, with its figures', () => {
    const result = check(goodRun());
    const violations = Object.values(result.guarantees).flatMap((g) => g.violations);
    expect(violations).toEqual([]);
    expect(result.ok).toBe(true);
    const { G1, G3, G4, G5, G6, G7 } = result.guarantees;
    expect(G1.figures).toMatchObject({ invoked: 4, lost: 0, acknowledged: 4, unconverged: 0 });
    expect(G1.figures.settledAfterLastFaultMs).toBe(2400);
    expect(G3.figures).toMatchObject({ keys: 2, overlaps: 0, fenceRefused: 1, deposedAccepted: 0 });
    // The leader died at 1000 and api-2 took over at 1250; worker-1's job was leased at 4100.
    expect(G4.figures).toMatchObject({ failoverP99Ms: 250, 'failoverP99Ms.kill': 250, resumeMaxMs: 1100 });
    // Two requests started in a fault window (at 1100 and 3100), both answered at the first
    // try; the one retried (at 4200) was outside.
    expect(G5.figures).toMatchObject({
      clientFailures: 0,
      retried: 1,
      requestsDuringFaults: 2,
      firstTryRatio: 1,
    });
    expect(G6.figures).toMatchObject({ failFastP99Ms: 0.03, othersMaxMs: 5 });
    expect(G7.figures).toMatchObject({ answersChecked: 4, crossTenant: 0 });
    expect(result.totals).toMatchObject({
      requests: 4,
      attempts: 5,
      retries: 1,
      faultsByAction: { kill: 2 },
    });
  });

  it('fails G1 on a request invoked and never completed', () => {
    const run = goodRun();
    const lost: HistoryEvent = {
      type: 'invoke',
      req: 9,
      t: 2000,
      tenant: 'acme',
      op: 'update',
      kind: 'instances',
      method: 'PATCH',
      path: '/v1/instances/inst_a',
      resourceId: 'inst_a',
    };
    const g = expectOnlyFails(
      { ...run, history: [...run.history, lost] },
      'G1',
      /request 9 .*never completed/,
    );
    expect(g.figures.lost).toBe(1);
  });

  it('fails G1 on a resource not terminal at its generation', () => {
    const run = goodRun();
    const [a, b] = run.evidence.resources;
    const g = expectOnlyFails(
      withEvidence(run, { resources: [{ ...a!, generation: 2, phase: 'Provisioning' }, b!] }),
      'G1',
      /instances inst_a .*not terminal.*generation 2, observed 1/,
    );
    expect(g.figures.unconverged).toBe(1);
  });

  it('takes a Failed resource as terminal at the generation its Ready condition names, and only that one', () => {
    const run = goodRun();
    const [a, b] = run.evidence.resources;
    // Its first generation's last attempt failed: nothing was ever applied (observed 0).
    const failed = { ...a!, phase: 'Failed', observedGeneration: 0, readyGeneration: 1 };
    delete (failed as { backendId?: string }).backendId;
    delete (failed as { inTruth?: boolean }).inTruth;
    const ok = check(withEvidence(run, { resources: [failed, b!] })).guarantees.G1;
    expect(ok.violations).toEqual([]);
    expect(ok.figures).toMatchObject({ unconverged: 0, failedResources: 1 });
    // A newer generation than the one that failed is not settled.
    expectOnlyFails(
      withEvidence(run, { resources: [{ ...failed, generation: 2 }, b!] }),
      'G1',
      /inst_a .*not terminal.*phase Failed, generation 2, observed 1/,
    );
  });

  it('fails G1 on a Ready resource the simulator does not have, or disagrees with', () => {
    const run = goodRun();
    const [a, b] = run.evidence.resources;
    expectOnlyFails(
      withEvidence(run, { resources: [{ ...a!, inTruth: false }, b!] }),
      'G1',
      /inst_a .*no i-inst_a/,
    );
    expectOnlyFails(
      withEvidence(run, { resources: [a!, { ...b!, mismatch: 'cidr 10.0.0.0/16 vs 10.1.0.0/16' }] }),
      'G1',
      /net_b \(tenant globex\): .*disagree: cidr/,
    );
  });

  it('fails G1 on a deleted resource still listed, and on an acknowledged one gone', () => {
    const run = goodRun();
    const [a, b] = run.evidence.resources;
    const stillThere = { ...b!, id: 'net_c', phase: 'Deleting', deleting: true };
    expectOnlyFails(
      withEvidence(run, { resources: [a!, b!, stillThere] }),
      'G1',
      /net_c .*still listed .*request 4 deleted it/,
    );
    expectOnlyFails(withEvidence(run, { resources: [b!] }), 'G1', /inst_a was acknowledged by request 1/);
    // A delete that failed for good says why, from the resource's Ready condition.
    const failed = { ...stillThere, phase: 'Failed', failure: 'BackendUnavailable: compute is down' };
    expectOnlyFails(
      withEvidence(run, { resources: [a!, b!, failed] }),
      'G1',
      /net_c .*still listed \(phase Failed, BackendUnavailable: compute is down\)/,
    );
  });

  it('takes a resource gone by a recorded cascade, and only when a cascading delete was sent', () => {
    const run = goodRun();
    const [, b] = run.evidence.resources;
    const cascading = (e: HistoryEvent): HistoryEvent =>
      e.type === 'invoke' && e.op === 'delete' ? { ...e, path: `${e.path}?cascade=true` } : e;
    const withCascade = { ...run, history: run.history.map(cascading) };
    // inst_a went with the cascade from the delete of net_c: the events recorded its deletion.
    const gone = withEvidence(withCascade, { resources: [b!], deletionRequested: ['net_c', 'inst_a'] });
    expect(check(gone).guarantees.G1.ok).toBe(true);
    // A deletion recorded with no cascading delete sent is no excuse; nor a cascade not recorded.
    expectOnlyFails(
      withEvidence(run, { resources: [b!], deletionRequested: ['net_c', 'inst_a'] }),
      'G1',
      /inst_a was acknowledged by request 1/,
    );
    expectOnlyFails(
      withEvidence(withCascade, { resources: [b!], deletionRequested: ['net_c'] }),
      'G1',
      /inst_a was acknowledged by request 1/,
    );
  });

  it('fails G2 on a duplicate effect and on a call accepted under a dead lease', () => {
    const run = goodRun();
    const audit = run.evidence.audit;
    const dup = expectOnlyFails(
      withEvidence(run, {
        audit: {
          ...audit,
          ok: false,
          duplicates: [
            { operation: 'compute.createInstance', clientToken: 'reconcile/x/1', effects: 2, seqs: [3, 8] },
          ],
        },
      }),
      'G2',
      /compute\.createInstance had 2 effects for client token reconcile\/x\/1 \(audit seq 3, 8\)/,
    );
    expect(dup.figures.duplicated).toBe(1);
    const stale = expectOnlyFails(
      withEvidence(run, {
        audit: {
          ...audit,
          ok: false,
          staleAcceptances: [{ seq: 12, resource: 'i-inst_a', fencingToken: 1, newest: 2 }],
        },
      }),
      'G2',
      /seq 12: i-inst_a accepted fencing token 1 after token 2/,
    );
    expect(stale.figures.staleAccepted).toBe(1);
  });

  it('fails G1 on a cron slot or an accounted minute missing, G2 on one twice, G3 on two writable primaries', () => {
    const run = goodRun();
    const c = run.evidence.controllers!;
    const missing = expectOnlyFails(
      withEvidence(run, {
        controllers: {
          ...c,
          cron: {
            ...c.cron,
            gaps: 1,
            examples: ['cron gap: cron_a slot 2023-11-14T22:13:25.000Z never fired'],
          },
          accounting: { ...c.accounting, gaps: 2 },
        },
      }),
      'G1',
      /cron gap: cron_a slot/,
    );
    expect(missing.figures).toMatchObject({ cronGaps: 1, accountingGaps: 2 });
    expect(missing.violations).toContain('2 resource minutes never recorded (6 owed)');
    const twice = expectOnlyFails(
      withEvidence(run, {
        controllers: {
          ...c,
          cron: { ...c.cron, doubles: 1, examples: ['cron double: cron_a slot x delivery ×2'] },
          accounting: { ...c.accounting, outside: 1 },
        },
      }),
      'G2',
      /cron double: cron_a/,
    );
    expect(twice.figures).toMatchObject({ cronDoubles: 1, accountingDoubles: 1 });
    const split = expectOnlyFails(
      withEvidence(run, {
        controllers: {
          ...c,
          databases: {
            ...c.databases,
            twoWritable: 1,
            examples: ['database db_1: n0 and n1 writable at once (change 4)'],
          },
        },
      }),
      'G3',
      /db_1: n0 and n1 writable at once/,
    );
    expect(split.figures).toMatchObject({ twoWritable: 1, writableChanges: 3 });
    // A run from before the controllers' audits judges without them.
    const { controllers: _, ...older } = run.evidence;
    const result = check({ ...run, evidence: older });
    expect(result.ok).toBe(true);
    expect(result.guarantees.G1.figures.cronGaps).toBeNull();
  });

  it('fails G2 on lease tokens that do not grow', () => {
    const run = goodRun();
    const [job, other] = run.evidence.jobs;
    const leases = [job!.leases[0]!, { ...job!.leases[1]!, token: 1 }];
    expectOnlyFails(
      withEvidence(run, { jobs: [{ ...job!, leases }, other!] }),
      'G2',
      /lease token 1 \(worker-2 at 4100 ms\) does not exceed the earlier 1/,
    );
  });

  it('fails G3 on overlapping terms', () => {
    const run = goodRun();
    const terms = run.evidence.terms.map((t) =>
      t.epoch === 1 && t.key === 'sweeper' ? { ...t, endedT: 1400 } : t,
    );
    const g = expectOnlyFails(
      withEvidence(run, { terms }),
      'G3',
      /sweeper: epoch 1 \(api-1\) and epoch 2 \(api-2\) both held it from 1250 ms to 1400 ms/,
    );
    expect(g.figures.overlaps).toBe(1);
  });

  it('fails G3 on an epoch going back', () => {
    const run = goodRun();
    const terms = [...run.evidence.terms, { key: 'lb-sync', epoch: 1, holder: 'api-1', acquiredT: 20 }].map(
      (t) => (t.key === 'lb-sync' && t.holder === 'api-2' ? { ...t, endedT: 15 } : t),
    );
    const g = expectOnlyFails(
      withEvidence(run, { terms }),
      'G3',
      /lb-sync: epoch 1 \(api-1 at 20 ms\) follows epoch 1 \(api-2 at 10 ms\)/,
    );
    expect(g.figures).toMatchObject({ epochRegressions: 1, overlaps: 0 });
  });

  it('fails G3 on a write accepted from a deposed term', () => {
    const run = goodRun();
    const fencedWrites = [
      ...run.evidence.fencedWrites!,
      { key: 'sweeper', epoch: 1, t: 1300, accepted: true },
    ];
    const g = expectOnlyFails(
      withEvidence(run, { fencedWrites }),
      'G3',
      /sweeper: a write under epoch 1 \(api-1\) was accepted at 1300 ms, after the term ended at 1000 ms/,
    );
    expect(g.figures.deposedAccepted).toBe(1);
  });

  it('fails G4 when no leader follows a leader fault, or a held job is never leased again', () => {
    const run = goodRun();
    expectOnlyFails(
      withEvidence(run, { terms: run.evidence.terms.filter((t) => t.epoch !== 2) }),
      'G4',
      /fault 1 \(kill leader:sweeper → api-1 at 1000 ms\): no live leader of sweeper followed/,
    );
    const [job, other] = run.evidence.jobs;
    const stuck = { ...job!, state: 'running', leases: [job!.leases[0]!], finishedT: undefined };
    // The job held by the killed worker was never leased again: G4 names it (and G1 would,
    // through its resource, in a real run).
    const result = check(withEvidence(run, { jobs: [stuck, other!] }));
    expect(result.guarantees.G4.violations).toEqual([
      'fault 2 (kill worker → worker-1 at 3000 ms): job reconcile/instances/inst_a/1 held by worker-1 was never leased again nor finished',
    ]);
  });

  it('times a leader pause until a live leader: not a term the paused node got, and a kept term is no failover', () => {
    const run = goodRun();
    const pause = (key: string, startT: number, endT: number) => ({
      scenario: 'leader-hang',
      action: 'pause' as const,
      target: `leader:${key}`,
      resolved: 'api-2 (pid 42)',
      startT,
      endT,
      leaderKey: key,
    });
    const paused = {
      ...run,
      faults: [...run.faults, pause('sweeper', 2000, 4000), pause('lb-sync', 4500, 4800)],
      evidence: {
        ...run.evidence,
        terms: [
          { key: 'sweeper', epoch: 1, holder: 'api-1', acquiredT: 0, endedT: 1000 },
          { key: 'sweeper', epoch: 2, holder: 'api-2', acquiredT: 1250, endedT: 2600 },
          // Granted to the paused node itself: no leader acting until api-1's term.
          { key: 'sweeper', epoch: 3, holder: 'api-2', acquiredT: 2700, endedT: 2900 },
          { key: 'sweeper', epoch: 4, holder: 'api-1', acquiredT: 3000 },
          // Held through its pause: the old measure ran to the next term, here none at all.
          { key: 'lb-sync', epoch: 1, holder: 'api-2', acquiredT: 10 },
        ],
      },
    };
    const g = check(paused).guarantees.G4;
    expect(g.violations).toEqual([]);
    expect(g.figures).toMatchObject({ leaderKept: 1, failovers: 2, 'failoverMaxMs.pause': 1000 });
    // Without the kept term the same pause is a violation: a leader fault with no live leader after.
    const lost = check({
      ...paused,
      evidence: {
        ...paused.evidence,
        terms: paused.evidence.terms.map((t) => (t.key === 'lb-sync' ? { ...t, endedT: 4600 } : t)),
      },
    }).guarantees.G4;
    expect(lost.violations).toEqual([
      expect.stringMatching(/pause leader:lb-sync .*no live leader of lb-sync followed/),
    ]);
  });

  it('counts a term granted to a stopped node from the end of its stop, if it still holds the key then', () => {
    const run = goodRun();
    // The accounting leader killed at 4000; the key goes to api-2 at 4050 while api-2 is cut from
    // Redis until 5000, and api-2 keeps it: the key has an acting leader from 5000.
    const faults = [
      ...run.faults,
      {
        scenario: 'chaos',
        action: 'kill' as const,
        target: 'leader:accounting',
        resolved: 'api-1 (pid 7)',
        startT: 4000,
        endT: 4100,
        leaderKey: 'accounting',
      },
      {
        scenario: 'chaos',
        action: 'blackhole-redis' as const,
        target: 'api',
        resolved: 'api-2 (pid 8)',
        startT: 3500,
        endT: 5000,
      },
    ];
    const terms = (kept: boolean) => [
      ...run.evidence.terms,
      { key: 'accounting', epoch: 1, holder: 'api-1', acquiredT: 0, endedT: 4000 },
      { key: 'accounting', epoch: 2, holder: 'api-2', acquiredT: 4050, ...(kept ? {} : { endedT: 4900 }) },
      { key: 'accounting', epoch: 3, holder: 'api-1', acquiredT: 11000 },
    ];
    const g = check({ ...run, faults, evidence: { ...run.evidence, terms: terms(true) } }).guarantees.G4;
    expect(g.violations).toEqual([]);
    expect(g.figures).toMatchObject({ 'failoverMaxMs.kill': 1000 });
    // Lost while still cut off, it never acted: the failover runs to the next term.
    const lost = check({ ...run, faults, evidence: { ...run.evidence, terms: terms(false) } }).guarantees.G4;
    expect(lost.figures).toMatchObject({ 'failoverMaxMs.kill': 7000 });
  });

  it('times a held job to its first progress: a new lease, or its paused holder finishing it', () => {
    const run = goodRun();
    const [job, other] = run.evidence.jobs;
    // No later lease; the held job finished at 3800, 800 ms after the fault.
    const finished = { ...job!, leases: [job!.leases[0]!], finishedT: 3800 };
    const g = check(withEvidence(run, { jobs: [finished, other!] })).guarantees.G4;
    expect(g.violations).toEqual([]);
    expect(g.figures).toMatchObject({ jobsResumed: 1, resumeMaxMs: 800 });
  });

  it('counts a job as held only while its sampled lease was running: one in a retry backoff is no resume', () => {
    const run = goodRun();
    const [job, other] = run.evidence.jobs;
    const [first, second] = job!.leases;
    // Seen running until after the kill at 3000: held, resumed by the lease at 4100.
    const live = { ...job!, leases: [{ ...first!, lastSeenT: 3200 }, second!] };
    const held = check(withEvidence(run, { jobs: [live, other!] })).guarantees.G4;
    expect(held.figures).toMatchObject({ jobsResumed: 1, resumeMaxMs: 1100 });
    // Leased at 2200, its attempt failed by 2300 (last seen then): at the kill it waited out a
    // backoff, held by nobody, and the lease at 9000 is a retry, not a resume. Unsampled, it
    // would count as a resume of 6000 ms.
    const failed = {
      ...job!,
      leases: [
        { ...first!, startT: 2200, lastSeenT: 2300 },
        { ...second!, startT: 9000 },
      ],
      finishedT: 9400,
    };
    const waiting = check(withEvidence(run, { jobs: [failed, other!] })).guarantees.G4;
    expect(waiting.figures).toMatchObject({ jobsResumed: 0 });
    const { lastSeenT: _, ...unsampled } = failed.leases[0]!;
    const old = { ...failed, leases: [unsampled, failed.leases[1]!] };
    expect(check(withEvidence(run, { jobs: [old, other!] })).guarantees.G4.figures).toMatchObject({
      jobsResumed: 1,
      resumeMaxMs: 6000,
    });
  });

  it('fails G5 on a request that failed after its retries', () => {
    const run = goodRun();
    const history = run.history.map((e) =>
      e.type === 'complete' && e.req === 4
        ? { ...e, outcome: 'fail' as const, status: 503, error: '503 after 2 attempts' }
        : e,
    );
    const g = expectOnlyFails(
      { ...run, history },
      'G5',
      /request 4 \(DELETE \/v1\/networks\/net_c, tenant globex\) failed after 2 attempts: 503 after 2 attempts/,
    );
    expect(g.figures).toMatchObject({ clientFailures: 1, firstTryRatio: 1 });
  });

  it('fails G6 on a breaker that refused calls with no fail-fast observation', () => {
    const run = goodRun();
    const breakers = [{ node: 'worker-1', breaker: 'dns', failFastMs: [], othersMs: [7], totalRejected: 3 }];
    expectOnlyFails(withEvidence(run, { breakers }), 'G6', /breaker dns on worker-1: refused 3 calls/);
    // A slow backend whose breaker never opened has other backends measured and no refusal.
    const slow = [{ node: 'worker-1', breaker: 'dns', failFastMs: [], othersMs: [7], totalRejected: 0 }];
    expect(check(withEvidence(run, { breakers: slow })).guarantees.G6.ok).toBe(true);
  });

  it("fails G7 on an answer naming another tenant's data", () => {
    const run = goodRun();
    const history = run.history.map((e) =>
      e.type === 'complete' && e.req === 3 ? { ...e, tenantsSeen: ['acme', 'globex', 'globex'] } : e,
    );
    const g = expectOnlyFails(
      { ...run, history },
      'G7',
      /request 3 \(GET \/v1\/instances\) sent with tenant acme's key saw data of globex$/,
    );
    expect(g.figures.crossTenant).toBe(1);
  });
});
