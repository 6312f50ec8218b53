// The cron policy and audit with an injected clock: which slots a pass fires after a gap in
// leadership (skip, catch-up bounded by maxCatchUp), pause and resume, a new schedule, the
// per-pass bound; and the audit failing on a duplicate, a missing slot, and a stray one.
import { describe, expect, it } from 'vitest';
import { cronViolations, mergedDowntime } from '../../src/controllers/cron/audit.js';
import { planSlots } from '../../src/controllers/cron/plan.js';
import { slotToken } from '../../src/controllers/cron/slots.js';
import { scheduleErrors, scheduleOf } from '../../src/kinds/cron-jobs/index.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const S = 1_000;
const everySecond = { schedule: '* * * * * *', createdAt: T0, updatedAt: T0 };
const cursorAt = (ms: number, extra: Partial<{ paused: boolean; schedule: string }> = {}) => ({
  decidedTo: ms,
  schedule: '* * * * * *',
  timeZone: 'UTC',
  paused: false,
  ...extra,
});

describe('planSlots', () => {
  it('fires every slot that came due while the term ran, however late the pass', () => {
    const plan = planSlots(everySecond, cursorAt(T0 + 2 * S), T0 + 5 * S + 300, T0, 100);
    expect(plan.fire).toEqual([3, 4, 5].map((n) => ({ slot: T0 + n * S, caughtUp: false })));
    expect(plan).toMatchObject({
      skipped: 0,
      more: false,
      decidedTo: T0 + 5 * S + 300,
      nextSlot: T0 + 6 * S,
    });
  });

  it('skips the slots that came due before the term began, and fires those after', () => {
    const termStart = T0 + 10 * S + 500;
    const plan = planSlots(everySecond, cursorAt(T0 + 2 * S), T0 + 12 * S + 1, termStart, 100);
    expect(plan.fire.map((f) => f.slot)).toEqual([T0 + 11 * S, T0 + 12 * S]);
    expect(plan.skipped).toBe(8);
  });

  it('catches up the last maxCatchUp missed slots, marked, and counts the rest skipped', () => {
    const job = { ...everySecond, missedSlots: 'catch-up' as const, maxCatchUp: 3 };
    const termStart = T0 + 10 * S + 500;
    const plan = planSlots(job, cursorAt(T0 + 2 * S), T0 + 11 * S, termStart, 100);
    expect(plan.fire).toEqual([
      { slot: T0 + 8 * S, caughtUp: true },
      { slot: T0 + 9 * S, caughtUp: true },
      { slot: T0 + 10 * S, caughtUp: true },
      { slot: T0 + 11 * S, caughtUp: false },
    ]);
    expect(plan.skipped).toBe(5);
  });

  it('fires nothing while paused, and after a resume starts from the resume, not the pause', () => {
    const paused = planSlots({ ...everySecond, paused: true }, cursorAt(T0), T0 + 5 * S, T0, 100);
    expect(paused).toMatchObject({ fire: [], decidedTo: T0 + 5 * S, nextSlot: undefined });
    const resumed = { ...everySecond, updatedAt: T0 + 8 * S + 200 };
    const plan = planSlots(resumed, cursorAt(T0 + 5 * S, { paused: true }), T0 + 10 * S, T0, 100);
    expect(plan.fire.map((f) => f.slot)).toEqual([T0 + 9 * S, T0 + 10 * S]);
  });

  it('starts a new schedule from its change, and a new job from its creation', () => {
    const changed = { schedule: '*/2 * * * * *', createdAt: T0, updatedAt: T0 + 5 * S };
    const plan = planSlots(changed, cursorAt(T0 + 1 * S), T0 + 9 * S, T0, 100);
    expect(plan.fire.map((f) => f.slot)).toEqual([6, 8].map((n) => T0 + n * S));
    const fresh = planSlots({ ...everySecond, createdAt: T0 + 1_500 }, undefined, T0 + 3 * S, T0, 100);
    expect(fresh.fire.map((f) => f.slot)).toEqual([T0 + 2 * S, T0 + 3 * S]);
  });

  it('stops at the per-pass bound with the watermark at the last slot it fires', () => {
    const plan = planSlots(everySecond, cursorAt(T0), T0 + 50 * S, T0, 10);
    expect(plan.fire).toHaveLength(10);
    expect(plan).toMatchObject({ more: true, decidedTo: T0 + 10 * S });
    const next = planSlots(everySecond, cursorAt(plan.decidedTo), T0 + 50 * S, T0, 10);
    expect(next.fire[0]!.slot).toBe(T0 + 11 * S);
  });

  it('reads a wall-clock schedule in its time zone, across a daylight saving change', () => {
    // 02:30 Europe/Berlin does not exist on 2026-03-29: that day's slot is at 03:00 local, once.
    const slots = scheduleOf('30 2 * * *', 'Europe/Berlin').lastSlots(
      Date.parse('2026-03-27T12:00:00Z'),
      Date.parse('2026-03-30T12:00:00Z'),
      10,
    );
    expect(slots.map((s) => new Date(s).toISOString())).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('names the field of a bad expression or zone', () => {
    expect(scheduleErrors('61 * * * *', undefined)).toEqual([
      { path: '/spec/schedule', message: expect.stringMatching(/minute/) },
    ]);
    expect(scheduleErrors('* * *', undefined)[0]!.path).toBe('/spec/schedule');
    expect(scheduleErrors('* * * * *', 'Mars/Base')).toEqual([
      { path: '/spec/timeZone', message: expect.stringMatching(/IANA/) },
    ]);
    expect(scheduleErrors('0 */5 * * * *', 'America/New_York')).toEqual([]);
  });
});

describe('cronViolations', () => {
  const job = { id: 'cron_a', schedule: '* * * * * *', from: T0 };
  const until = T0 + 5 * S;
  const all = [1, 2, 3, 4, 5].map((n) => ({ jobId: 'cron_a', slot: T0 + n * S }));
  const tokens = all.map((s) => ({ clientToken: slotToken(s.jobId, s.slot) }));

  it('passes each slot fired once', () => {
    const audit = cronViolations(all, [job], { until }, tokens);
    expect(audit).toMatchObject({ gaps: [], doubles: [], unexpected: [], owed: 5 });
  });

  it('fails on a slot recorded twice, by two rows or a rewritten one, and on a delivery made twice', () => {
    expect(cronViolations([...all, all[2]!], [job], { until }).doubles).toHaveLength(1);
    expect(cronViolations([...all.slice(1), { ...all[0]!, writes: 2 }], [job], { until }).doubles).toEqual([
      { type: 'double', jobId: 'cron_a', slot: T0 + S, times: 2, of: 'record' },
    ]);
    expect(cronViolations(all, [job], { until }, [...tokens, tokens[4]!]).doubles).toEqual([
      { type: 'double', jobId: 'cron_a', slot: T0 + 5 * S, times: 2, of: 'delivery' },
    ]);
  });

  it('fails on a missing slot, unless skip and inside a downtime; catch-up excuses only beyond maxCatchUp', () => {
    const missing = all.filter((s) => s.slot !== T0 + 3 * S && s.slot !== T0 + 2 * S);
    expect(cronViolations(missing, [job], { until }).gaps.map((g) => g.slot)).toEqual([
      T0 + 2 * S,
      T0 + 3 * S,
    ]);
    const downtime = [[T0 + 1_500, T0 + 3_500]] as const;
    expect(cronViolations(missing, [job], { until, downtime })).toMatchObject({ gaps: [], excused: 2 });
    const catchUp = { ...job, missedSlots: 'catch-up' as const, maxCatchUp: 1 };
    // Of the downtime's two slots the last one must fire.
    expect(cronViolations(missing, [catchUp], { until, downtime }).gaps.map((g) => g.slot)).toEqual([
      T0 + 3 * S,
    ]);
    expect(
      cronViolations(missing, [{ ...catchUp, maxCatchUp: 1 }], { until: T0 + 5 * S, downtime: [] }).gaps,
    ).toHaveLength(2);
  });

  it("judges overlapping downtimes as one: a term that fired nothing widens its successor's", () => {
    // Slots 2 and 3 missing; 4 fired by the term that ended the downtime. A term at 3.2 s fired
    // nothing before its leader stopped, so its successor's downtime (from the last slot before
    // it) starts where the first one did.
    const missing = all.filter((s) => s.slot !== T0 + 3 * S && s.slot !== T0 + 2 * S);
    const catchUp = { ...job, missedSlots: 'catch-up' as const, maxCatchUp: 2 };
    const overlapping = [
      [T0 + 1_001, T0 + 3_200],
      [T0 + 1_001, T0 + 4_200],
    ] as const;
    // 2, 3 and 4 in the merged window: the last two (3 and 4) had to fire; 3 did not.
    expect(
      cronViolations(missing, [catchUp], { until, downtime: overlapping }).gaps.map((g) => g.slot),
    ).toEqual([T0 + 3 * S]);
    // With maxCatchUp 1 only 4 had to, and it fired; judged by the first window alone, 3 would
    // be a gap (the last slot of that window, which a catch-up must fire).
    const one = { ...catchUp, maxCatchUp: 1 };
    expect(cronViolations(missing, [one], { until, downtime: overlapping })).toMatchObject({
      gaps: [],
      excused: 2,
    });
    expect(
      cronViolations(missing, [one], { until, downtime: [overlapping[0]] }).gaps.map((g) => g.slot),
    ).toEqual([T0 + 3 * S]);
    // A term that fired slot 3 and not the 2 its catch-up owed: its successor's downtime starts
    // after 3, and does not excuse 2.
    const fired3 = all.filter((s) => s.slot !== T0 + 2 * S);
    const after3 = [
      [T0 + 1_001, T0 + 3_200],
      [T0 + 3_001, T0 + 5_200],
    ] as const;
    expect(cronViolations(fired3, [catchUp], { until, downtime: after3 }).gaps.map((g) => g.slot)).toEqual([
      T0 + 2 * S,
    ]);
    expect(
      mergedDowntime([
        [5, 9],
        [1, 3],
        [1, 4],
        [2, 6],
      ]),
    ).toEqual([
      [1, 4],
      [2, 6],
      [5, 9],
    ]);
  });

  it('owes a deleted job only the slots up to its deletion, and still fails a gap before it', () => {
    const deleted = { ...job, until: T0 + 3 * S + 500 };
    expect(cronViolations(all.slice(0, 3), [deleted], { until })).toMatchObject({ gaps: [], owed: 3 });
    expect(cronViolations(all.slice(0, 2), [deleted], { until }).gaps.map((g) => g.slot)).toEqual([
      T0 + 3 * S,
    ]);
    // A slot a pass in flight recorded after the deletion is not judged.
    expect(cronViolations(all, [deleted], { until }).unexpected).toEqual([]);
  });

  it('fails on a slot the schedule does not have, of no job, or delivered without a record', () => {
    const stray = [...all, { jobId: 'cron_a', slot: T0 + 2_500 }, { jobId: 'cron_b', slot: T0 + S }];
    expect(cronViolations(stray, [job], { until }).unexpected.map((u) => (u as { why: string }).why)).toEqual(
      ['not a slot of the schedule', 'no such job'],
    );
    const unrecorded = cronViolations(
      all.slice(0, 4),
      [job],
      { until, downtime: [[T0 + 4_500, T0 + 5_500]] },
      tokens,
    );
    expect(unrecorded.unexpected).toEqual([
      { type: 'unexpected', jobId: 'cron_a', slot: T0 + 5 * S, why: 'delivered without a record' },
    ]);
  });
});
