import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decorrelatedJitter, fullJitter } from './backoff.js';
import { ManualClock } from './clock.js';
import { isRetryExhaustedError, type RetryExhaustedError } from './errors.js';
import { compose } from './policy.js';
import { Retry, type RetryEvent } from './retry.js';
import { settle } from './test-support.js';

/** Runs a retried call to its end, firing each backoff timer as soon as it is armed. */
async function drive<T>(clock: ManualClock, call: Promise<T>): Promise<T> {
  let done = false;
  const settled = call.finally(() => {
    done = true;
  });
  while (!done) {
    await settle();
    clock.advance(60_000);
  }
  return settled;
}

describe('Retry', () => {
  it('makes exactly maxAttempts calls, then fails with the cause chain', async () => {
    const clock = new ManualClock();
    const retry = new Retry({ maxAttempts: 4, scheduler: clock, backoff: fullJitter({ random: () => 0.5 }) });
    let calls = 0;
    const error = await drive(
      clock,
      compose(retry)
        .execute(() => {
          calls++;
          throw new Error(`attempt ${calls}`);
        })
        .catch((e: unknown) => e),
    );
    expect(calls).toBe(4);
    expect(isRetryExhaustedError(error)).toBe(true);
    const exhausted = error as RetryExhaustedError;
    expect(exhausted.attempts).toBe(4);
    expect((exhausted.cause as Error).message).toBe('attempt 4');
    expect(exhausted.errors.map((e) => (e as Error).message)).toEqual([
      'attempt 1',
      'attempt 2',
      'attempt 3',
      'attempt 4',
    ]);
  });

  it('waits a full-jitter delay: uniform in [0, min(cap, base·2^n)], announced by onRetry', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 6,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 5_000 }),
        async (draws, baseMs, capMs) => {
          const clock = new ManualClock();
          let k = 0;
          const random = () => draws[k++ % draws.length]!;
          const retry = new Retry({
            maxAttempts: 6,
            scheduler: clock,
            backoff: fullJitter({ baseMs, capMs, random }),
          });
          const events: RetryEvent[] = [];
          retry.onRetry.on((e) => events.push(e));
          const starts: number[] = [];
          await drive(
            clock,
            compose(retry)
              .execute(() => {
                starts.push(clock.now());
                throw new Error('x');
              })
              .catch(() => {}),
          );
          expect(events).toHaveLength(5);
          events.forEach((e, n) => {
            const ceiling = Math.min(capMs, baseMs * 2 ** n);
            expect(e.delayMs).toBeGreaterThanOrEqual(0);
            expect(e.delayMs).toBeLessThanOrEqual(ceiling);
            expect(e.delayMs).toBeCloseTo(draws[n]! * ceiling, 9);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('draws decorrelated jitter within [base, min(cap, 3·previous)]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1 }),
        (draws) => {
          let k = 0;
          const backoff = decorrelatedJitter({ baseMs: 10, capMs: 1_000, random: () => draws[k++]! });
          let previous = 0;
          for (let n = 0; n < draws.length; n++) {
            const delay = backoff.delay(n, previous);
            expect(delay).toBeGreaterThanOrEqual(10);
            expect(delay).toBeLessThanOrEqual(Math.min(1_000, Math.max(10, previous) * 3));
            previous = delay;
          }
        },
      ),
    );
  });

  it('ends the backoff sleep at once on abort and makes no further attempt', async () => {
    const clock = new ManualClock();
    const retry = new Retry({
      maxAttempts: 5,
      scheduler: clock,
      backoff: fullJitter({ random: () => 1 - 1e-9 }),
    });
    const controller = new AbortController();
    let calls = 0;
    const call = compose(retry)
      .execute(() => {
        calls++;
        throw new Error('transient');
      }, controller.signal)
      .catch((e: unknown) => e);
    await settle();
    expect(calls).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(call).resolves.toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000_000);
    await settle();
    expect(calls).toBe(1);
  });

  it('makes no further attempt when the call aborts during an attempt', async () => {
    const clock = new ManualClock();
    const retry = new Retry({ maxAttempts: 5, scheduler: clock });
    const controller = new AbortController();
    let calls = 0;
    const call = compose(retry)
      .execute(({ signal }) => {
        calls++;
        return new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('transient, seen after the abort')));
        });
      }, controller.signal)
      .catch((e: unknown) => e);
    controller.abort(new Error('caller gone'));
    expect(((await call) as Error).message).toBe('transient, seen after the abort');
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000_000);
    await settle();
    expect(calls).toBe(1);
  });

  it('passes an error the predicate refuses straight through', async () => {
    const retry = new Retry({ maxAttempts: 5, shouldRetry: (e) => (e as Error).message !== 'fatal' });
    let calls = 0;
    const error = await compose(retry)
      .execute(() => {
        calls++;
        throw new Error('fatal');
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('fatal');
    expect(calls).toBe(1);
  });
});
