import { describe, expect, it } from 'vitest';
import { ContainmentSampler } from './containment.js';

describe('ContainmentSampler', () => {
  const setup = (open: Set<string> = new Set()) => {
    const clock = { t: 0 };
    const sampler = new ContainmentSampler({
      breakerOpen: (b) => open.has(b),
      hangMs: 1_000,
      keep: 3,
      now: () => clock.t,
    });
    return { sampler, clock, open };
  };

  it('keeps the latency of refused calls as fail-fast samples, the latest `keep` of them', () => {
    const { sampler, clock } = setup();
    for (const ms of [0.01, 0.02, 0.03, 0.04]) {
      const t0 = sampler.start('compute');
      clock.t += ms;
      sampler.end('compute', t0, 'refused');
    }
    expect(sampler.samples('compute').failFastMs.map((v) => Math.round(v * 100) / 100)).toEqual([
      0.02, 0.03, 0.04,
    ]);
    expect(sampler.samples('network')).toEqual({ failFastMs: [], othersMs: [] });
  });

  it("counts another backend's successful call only while this one is stalled: breaker open or a call hung", () => {
    const open = new Set<string>();
    const { sampler, clock } = setup(open);
    const hung = sampler.start('compute');
    clock.t += 10;
    const fast = sampler.start('network');
    clock.t += 5;
    sampler.end('network', fast, 'ok'); // compute's call is 15 ms old: not stalled
    expect(sampler.samples('compute').othersMs).toEqual([]);

    clock.t += 1_000;
    const during = sampler.start('network');
    clock.t += 7;
    sampler.end('network', during, 'ok'); // compute's call is over 1 s old: stalled
    const failed = sampler.start('network');
    sampler.end('network', failed, 'failed'); // a failure is not a latency sample
    expect(sampler.samples('compute').othersMs).toEqual([7]);

    sampler.end('compute', hung, 'failed');
    open.add('compute'); // its breaker opened: still stalled, with nothing in flight
    const later = sampler.start('network');
    clock.t += 2;
    sampler.end('network', later, 'ok');
    expect(sampler.samples('compute').othersMs).toEqual([7, 2]);
    expect(sampler.samples('network').othersMs).toEqual([]);
  });
});
