// Model-based property tests: random sequences of calls, results and clock moves, checked
// against a small reference model of the state machine and against its invariants.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { type BreakerPermit, CircuitBreaker } from './circuit-breaker.js';
import type { BreakerState, Outcome, StateChange } from './options.js';

type Command =
  | { readonly kind: 'call' }
  | { readonly kind: 'settle'; readonly pick: number; readonly outcome: Outcome }
  | { readonly kind: 'advance'; readonly ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Command>({ kind: 'call' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom<Outcome>('success', 'failure', 'failure', 'ignored'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 700 }) }),
  },
);

interface Config {
  readonly failures: number;
  readonly openMs: number;
  readonly permits: number;
  readonly successesToClose: number;
  readonly probeTimeoutMs: number;
}

const config: fc.Arbitrary<Config> = fc.record({
  failures: fc.integer({ min: 1, max: 4 }),
  openMs: fc.integer({ min: 1, max: 1_000 }),
  permits: fc.integer({ min: 1, max: 3 }),
  successesToClose: fc.integer({ min: 1, max: 3 }),
  probeTimeoutMs: fc.integer({ min: 1, max: 1_500 }),
});

interface ModelCall {
  readonly period: number;
  readonly startedAt: number;
  readonly probe: boolean;
}

/** The reference model: the documented behaviour, written as plainly as possible. */
class Model {
  state: BreakerState = 'closed';
  period = 0;
  consecutive = 0;
  openUntil = 0;
  probes: ModelCall[] = [];
  successes = 0;

  constructor(private readonly c: Config) {}

  private go(state: BreakerState): void {
    this.state = state;
    this.period++;
    this.probes = [];
    this.successes = 0;
    this.consecutive = 0;
  }

  private open(now: number): void {
    this.openUntil = now + this.c.openMs;
    this.go('open');
  }

  acquire(now: number): ModelCall | null {
    if (this.state === 'closed') return { period: this.period, startedAt: now, probe: false };
    if (this.state === 'open') {
      if (now < this.openUntil) return null;
      this.go('half-open');
    }
    const oldest = this.probes[0];
    if (oldest !== undefined && now - oldest.startedAt >= this.c.probeTimeoutMs) {
      this.open(now);
      return null;
    }
    if (this.probes.length >= this.c.permits) return null;
    const call = { period: this.period, startedAt: now, probe: true };
    this.probes.push(call);
    return call;
  }

  settle(call: ModelCall, outcome: Outcome, now: number): void {
    this.probes = this.probes.filter((p) => p !== call);
    if (outcome === 'ignored' || call.period !== this.period) return;
    if (this.state === 'closed') {
      this.consecutive = outcome === 'failure' ? this.consecutive + 1 : 0;
      if (this.consecutive >= this.c.failures) this.open(now);
    } else if (this.state === 'half-open') {
      if (outcome === 'failure') this.open(now);
      else if (++this.successes >= this.c.successesToClose) this.go('closed');
    }
  }
}

describe('CircuitBreaker properties', () => {
  it('matches the reference model and keeps its invariants under random sequences', () => {
    fc.assert(
      fc.property(config, fc.array(command, { maxLength: 120 }), (c, commands) => {
        const clock = new ManualClock();
        const breaker = new CircuitBreaker({
          clock,
          consecutiveFailures: c.failures,
          openMs: c.openMs,
          halfOpen: {
            permits: c.permits,
            successesToClose: c.successesToClose,
            probeTimeoutMs: c.probeTimeoutMs,
          },
        });
        const model = new Model(c);
        const pending: { permit: BreakerPermit; model: ModelCall }[] = [];
        // Probe outcomes since the breaker last entered half-open, to check how it closes.
        let probeRun: Outcome[] = [];
        breaker.onStateChange.on((e: StateChange) => {
          if (e.to === 'closed') {
            const successes = probeRun.filter((o) => o === 'success').length;
            expect(successes).toBeGreaterThanOrEqual(c.successesToClose);
            expect(probeRun).not.toContain('failure');
          }
          probeRun = [];
        });
        for (const cmd of commands) {
          if (cmd.kind === 'advance') {
            clock.advance(cmd.ms);
          } else if (cmd.kind === 'call') {
            const permit = breaker.tryAcquire();
            const expected = model.acquire(clock.now());
            expect(permit === null).toBe(expected === null);
            if (permit !== null && expected !== null) pending.push({ permit, model: expected });
          } else if (pending.length > 0) {
            const [call] = pending.splice(cmd.pick % pending.length, 1);
            if (call!.permit.probe && call!.permit.period === breaker.snapshot().period)
              probeRun.push(cmd.outcome);
            breaker.record(call!.permit, cmd.outcome);
            model.settle(call!.model, cmd.outcome, clock.now());
          }
          const snap = breaker.snapshot();
          expect(snap.state).toBe(model.state);
          // Never more probes in flight than permits (single flight by default).
          const probesNow = pending.filter((p) => p.permit.probe && p.permit.period === snap.period).length;
          expect(probesNow).toBeLessThanOrEqual(c.permits);
          expect(snap.halfOpen.probes).toBe(probesNow);
        }
      }),
      { numRuns: 500 },
    );
  });

  // A probe that outlived its deadline was given up on (the breaker reopened): it belongs to
  // an earlier period and no longer counts as in flight; only that path admits a new one.
  it('never lets two probes of one half-open period run at once in single-flight mode, whatever listeners do', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 200 }), fc.boolean(), (commands, reentrant) => {
        const clock = new ManualClock();
        const breaker = new CircuitBreaker({ clock, consecutiveFailures: 1, openMs: 100 });
        const pending: BreakerPermit[] = [];
        // A listener that calls the breaker back on every change, as a health check might.
        if (reentrant) {
          breaker.onStateChange.on(() => {
            const permit = breaker.tryAcquire();
            if (permit !== null) pending.push(permit);
          });
        }
        for (const cmd of commands) {
          if (cmd.kind === 'advance') clock.advance(cmd.ms);
          else if (cmd.kind === 'call') {
            const permit = breaker.tryAcquire();
            if (permit !== null) pending.push(permit);
          } else if (pending.length > 0) {
            breaker.record(pending.splice(cmd.pick % pending.length, 1)[0]!, cmd.outcome);
          }
          const period = breaker.snapshot().period;
          expect(pending.filter((p) => p.probe && p.period === period).length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 500 },
    );
  });
});
