// The compute controllers' decisions as pure functions of what a pass read, with an injected
// clock (no sleeps): the autoscaling policy and plan, the healing steps, the load balancer's
// wanted targets, and the autoscaling audit fed known-bad samples.
import { describe, expect, it } from 'vitest';
import { autoscalingViolations, type GroupSample } from '../../src/controllers/autoscaling/audit.js';
import { planGroup } from '../../src/controllers/autoscaling/controller.js';
import { decide, type GroupSizing } from '../../src/controllers/autoscaling/policy.js';
import { healStep } from '../../src/controllers/healing/policy.js';
import { wantedTargets } from '../../src/controllers/lb-sync/controller.js';
import type { Resource } from '../../src/core/resources/resource.js';

const sizing: GroupSizing = {
  minSize: 1,
  maxSize: 5,
  desired: 2,
  policy: { targetCpuPercent: 50, cooldownSeconds: 60 },
};
const T = 1_800_000_000_000;

function resource(over: Partial<Resource> & { id: string; name: string }): Resource {
  return {
    kind: 'instances',
    tenant: 't',
    labels: {},
    spec: {},
    status: { phase: 'Ready', conditions: [], observedGeneration: 1 },
    generation: 1,
    resourceVersion: '1',
    createdAt: new Date(T).toISOString(),
    updatedAt: new Date(T).toISOString(),
    deletionRequestedAt: null,
    ...over,
  };
}

describe('the autoscaling policy', () => {
  it('takes desired from the spec at a new generation, clamped, with the reason', () => {
    const first = decide(sizing, 1, undefined, { running: 0, cpuPercent: undefined }, T);
    expect(first.state).toEqual({ desired: 2, specGeneration: 1, lastScaledAt: T });
    expect(first.decision).toMatchObject({ from: 0, to: 2, reason: 'Created' });
    const scaled = decide({ ...sizing, desired: 4 }, 2, first.state, { running: 2, cpuPercent: 10 }, T + 1);
    expect(scaled.decision).toMatchObject({ from: 2, to: 4, reason: 'SpecChanged' });
  });

  it('scales out on CPU above the target, not again within the cooldown, never above max', () => {
    const s0 = { desired: 2, specGeneration: 1, lastScaledAt: T };
    // Within the cooldown: nothing, however hot.
    expect(decide(sizing, 1, s0, { running: 2, cpuPercent: 100 }, T + 59_999).decision).toBeUndefined();
    const out = decide(sizing, 1, s0, { running: 2, cpuPercent: 90 }, T + 60_000);
    expect(out.decision).toMatchObject({ from: 2, to: 4, reason: 'CpuAboveTarget' });
    expect(out.decision!.message).toContain('90.0%');
    expect(out.state.lastScaledAt).toBe(T + 60_000);
    const capped = decide(sizing, 1, out.state, { running: 4, cpuPercent: 100 }, T + 120_000);
    expect(capped.state.desired).toBe(5);
  });

  it('scales in below the target after the cooldown, not under protection, not below min, not while booting', () => {
    const s0 = { desired: 4, specGeneration: 1, lastScaledAt: T };
    const cold = { running: 4, cpuPercent: 5 };
    expect(decide(sizing, 1, s0, cold, T + 1_000).decision).toBeUndefined();
    expect(decide(sizing, 1, s0, cold, T + 60_000).decision).toMatchObject({
      to: 1,
      reason: 'CpuBelowTarget',
    });
    expect(decide({ ...sizing, scaleInProtection: true }, 1, s0, cold, T + 60_000).decision).toBeUndefined();
    // Two of four still booting: their missing load is no idle capacity.
    expect(decide(sizing, 1, s0, { running: 2, cpuPercent: 5 }, T + 60_000).decision).toBeUndefined();
    // Within the tolerance of the target: no flapping.
    expect(decide(sizing, 1, s0, { running: 4, cpuPercent: 54 }, T + 60_000).decision).toBeUndefined();
  });

  it('plans the missing slots and removes the highest ones; a slot being deleted is not created twice', () => {
    const group = resource({ id: 'asg_1', name: 'web', kind: 'autoscaling-groups', spec: { ...sizing } });
    const kids = [
      resource({ id: 'inst_a', name: 'web-0', owner: 'asg_1' }),
      resource({
        id: 'inst_b',
        name: 'web-1',
        owner: 'asg_1',
        deletionRequestedAt: new Date(T).toISOString(),
      }),
      resource({ id: 'inst_c', name: 'web-3', owner: 'asg_1' }),
    ];
    const state = { desired: 3, specGeneration: 1, lastScaledAt: T };
    const plan = planGroup(group, kids, state, { running: 2, cpuPercent: 50 }, T + 1);
    expect(plan.create).toEqual([2]);
    expect(plan.remove.map((r) => r.name)).toEqual(['web-3']);
    expect(plan.stateChanged).toBe(false);
    const down = planGroup(group, kids, { ...state, desired: 1 }, { running: 2, cpuPercent: 50 }, T + 1);
    expect(down.create).toEqual([]);
    expect(down.remove.map((r) => r.name)).toEqual(['web-3']);
    expect(down.report.instances).toBe(1);
  });
});

describe('the healing steps', () => {
  const limits = { windowMs: 600_000, maxRestarts: 3, backoffMs: 1_000, maxBackoffMs: 60_000 };
  it('restarts with a doubling backoff, then replaces an owned instance or gives up once', () => {
    let state = healStep(undefined, false, T, limits)!;
    expect(state.action).toBe('restart');
    expect(state.state.nextAt).toBe(T + 1_000);
    expect(healStep(state.state, false, T + 999, limits)).toBeUndefined();
    state = healStep(state.state, false, T + 1_000, limits)!;
    expect(state.state).toMatchObject({ restarts: 2, nextAt: T + 3_000 });
    state = healStep(state.state, false, T + 3_000, limits)!;
    expect(state.state).toMatchObject({ restarts: 3, nextAt: T + 7_000 });
    expect(healStep(state.state, true, T + 7_000, limits)!.action).toBe('replace');
    const exhausted = healStep(state.state, false, T + 7_000, limits)!;
    expect(exhausted.action).toBe('exhausted');
    expect(healStep(exhausted.state, false, T + 500_000, limits)).toBeUndefined();
    // A new window restarts again.
    expect(healStep(exhausted.state, false, T + 600_000, limits)!.action).toBe('restart');
  });
});

describe('the load balancer targets', () => {
  it('keeps hand-set targets and follows the serving instances of its groups', () => {
    const lb = resource({
      id: 'lb_1',
      name: 'front',
      kind: 'load-balancers',
      spec: {
        targets: [
          { instance: 'inst_hand', port: 80, weight: 5 },
          { instance: 'inst_old', port: 8080, weight: 1 },
        ],
      },
    });
    const group = resource({
      id: 'asg_1',
      name: 'web',
      kind: 'autoscaling-groups',
      spec: { loadBalancer: { id: 'lb_1', port: 8080 } },
    });
    const up = (id: string, backendId: string, over: Partial<Resource> = {}) =>
      resource({
        id,
        name: id,
        owner: 'asg_1',
        status: {
          phase: 'Ready',
          conditions: [],
          observedGeneration: 1,
          outputs: { backendId, address: '10.0.0.9' },
        },
        ...over,
      });
    const children = new Map([
      [
        'asg_1',
        [
          up('inst_old', 'i-1', { deletionRequestedAt: new Date(T).toISOString() }),
          up('inst_b', 'i-2'),
          up('inst_a', 'i-3'),
          up('inst_crashed', 'i-4'),
        ],
      ],
    ]);
    const running = new Set(['i-1', 'i-2', 'i-3']);
    expect(wantedTargets(lb, [group], children, running)).toEqual([
      { instance: 'inst_hand', port: 80, weight: 5 },
      { instance: 'inst_a', port: 8080, weight: 1 },
      { instance: 'inst_b', port: 8080, weight: 1 },
    ]);
    // A group being deleted takes its instances out.
    const deleting = { ...group, deletionRequestedAt: new Date(T).toISOString() };
    expect(wantedTargets(lb, [deleting], children, running)).toEqual([
      { instance: 'inst_hand', port: 80, weight: 5 },
    ]);
  });
});

describe('the autoscaling audit', () => {
  const good: GroupSample = {
    at: T,
    group: 'asg_1',
    minSize: 1,
    maxSize: 3,
    desired: 3,
    live: 3,
    slots: { 'web-0': ['i-1'], 'web-1': ['i-2'], 'web-2': ['i-3'] },
  };
  it('passes a good history', () => {
    expect(autoscalingViolations([good, { ...good, at: T + 1, live: 0, desired: 1, slots: {} }])).toEqual({
      outside: [],
      duplicates: [],
    });
  });
  it('fails on a size outside the bounds, too many live instances, and two instances in one slot', () => {
    const bad = autoscalingViolations([
      { ...good, desired: 4 },
      { ...good, at: T + 1, live: 4 },
      { ...good, at: T + 2, slots: { 'web-0': ['i-1', 'i-9'] } },
    ]);
    expect(bad.outside.map((o) => o.what)).toEqual([
      'desired 4 outside 1..3',
      '4 live instances above maxSize 3',
    ]);
    expect(bad.duplicates).toEqual([
      { at: T + 2, group: 'asg_1', slot: 'web-0', backendIds: ['i-1', 'i-9'] },
    ]);
  });
});
