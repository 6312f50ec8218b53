import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import { Bulkhead } from './bulkhead.js';
import { ManualClock } from './clock.js';
import { isTimeoutError } from './errors.js';
import { compose } from './policy.js';
import { Retry } from './retry.js';
import { deferred, settle } from './test-support.js';
import { Timeout } from './timeout.js';

/** Work that ends only when its signal aborts, and records that it saw the abort. */
function abortable(seen: unknown[]) {
  return ({ signal }: { signal: AbortSignal }) =>
    new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => {
        seen.push(signal.reason);
        reject(signal.reason);
      });
    });
}

describe('Timeout', () => {
  it('aborts the underlying work at the deadline and rejects with a TimeoutError', async () => {
    const clock = new ManualClock();
    const exec = compose(new Timeout({ name: 'op', timeoutMs: 100, scheduler: clock }));
    const seen: unknown[] = [];
    const call = exec.execute(abortable(seen)).catch((e: unknown) => e);
    clock.advance(99);
    expect(seen).toHaveLength(0);
    clock.advance(1);
    const error = await call;
    expect(isTimeoutError(error)).toBe(true);
    expect(seen).toEqual([error]);
  });

  it('hands an already-expired signal to work that reads it after the deadline', async () => {
    const clock = new ManualClock();
    const exec = compose(new Timeout({ timeoutMs: 10, scheduler: clock }));
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const call = exec
      .execute(async (scope) => {
        await gate.promise;
        signal = scope.signal;
      })
      .catch((e: unknown) => e);
    clock.advance(10);
    expect(isTimeoutError(await call)).toBe(true);
    gate.resolve();
    await settle();
    expect(signal?.aborted).toBe(true);
  });

  it("passes the caller's abort to the work and stops waiting at once", async () => {
    const exec = compose(new Timeout({ timeoutMs: 60_000 }));
    const controller = new AbortController();
    const seen: unknown[] = [];
    const call = exec.execute(abortable(seen), controller.signal).catch((e: unknown) => e);
    const reason = new Error('caller gone');
    controller.abort(reason);
    await expect(call).resolves.toBe(reason);
    expect(seen).toEqual([reason]);
  });

  it('keeps a stream readable past the opening deadline until it is closed', async () => {
    const clock = new ManualClock();
    const exec = compose(new Timeout({ timeoutMs: 100, scheduler: clock }));
    const caller = new AbortController();
    let streamSignal: AbortSignal | undefined;
    const lines = await exec.stream(async ({ signal }) => {
      streamSignal = signal;
      return (async function* () {
        for (let i = 0; ; i++) {
          if (signal.aborted) throw signal.reason;
          yield `line ${i}`;
        }
      })();
    }, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    clock.advance(10_000);
    const iterator = lines[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 'line 0' });
    expect(await iterator.next()).toEqual({ done: false, value: 'line 1' });
    expect(streamSignal?.aborted).toBe(false);
    await iterator.return?.();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it("passes the caller's abort to a stream opened under a retry, until the stream is closed", async () => {
    const clock = new ManualClock();
    const exec = compose(new Retry({ scheduler: clock }), new Timeout({ timeoutMs: 100, scheduler: clock }));
    const caller = new AbortController();
    let streamSignal: AbortSignal | undefined;
    const lines = await exec.stream(async ({ signal }) => {
      streamSignal = signal;
      return (async function* () {
        yield 'line';
      })();
    }, caller.signal);
    clock.advance(10_000);
    expect(streamSignal?.aborted).toBe(false);
    const reason = new Error('viewer left');
    caller.abort(reason);
    expect(streamSignal?.reason).toBe(reason);
    await lines[Symbol.asyncIterator]().return?.();
  });

  it('times out the opening of a stream', async () => {
    const clock = new ManualClock();
    const exec = compose(new Timeout({ timeoutMs: 100, scheduler: clock }));
    const opening = exec.stream(() => new Promise<AsyncIterable<string>>(() => {})).catch((e: unknown) => e);
    clock.advance(100);
    expect(isTimeoutError(await opening)).toBe(true);
  });

  it('lets an inner timeout hear the deadline of an outer one on the same call', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ name: 'b', clock });
    const exec = compose(
      new Timeout({ name: 'deadline', timeoutMs: 100, scheduler: clock }),
      breaker,
      new Timeout({ name: 'attempt', timeoutMs: 1_000, scheduler: clock }),
    );
    // Work that ignores its abort and never settles: only the policies can end the call.
    const call = exec.execute(() => new Promise<never>(() => {})).catch((e: unknown) => e);
    clock.advance(100);
    const error = await call;
    expect(isTimeoutError(error) && error.policy).toBe('deadline');
    await settle();
    // The breaker learns of the failure at the deadline, not when the attempt timeout passes.
    expect(breaker.snapshot().totals.failures).toBe(1);
  });

  it('serves the deadlines of every call with one timer', async () => {
    const clock = new ManualClock();
    const timeout = new Timeout({ timeoutMs: 1_000, scheduler: clock });
    const exec = compose(timeout);
    for (let i = 0; i < 1_000; i++) {
      await exec.execute(() => i);
      clock.advance(0.25);
    }
    expect(clock.pendingTimers).toBe(1);
    expect(timeout.pending).toBe(0);
    const seen: unknown[] = [];
    const calls = [exec.execute(abortable(seen)).catch(() => {})];
    clock.advance(500);
    calls.push(exec.execute(abortable(seen)).catch(() => {}));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(500);
    expect(seen).toHaveLength(1);
    clock.advance(500);
    expect(seen).toHaveLength(2);
    await Promise.all(calls);
    expect(timeout.pending).toBe(0);
  });

  it('leaves no abort listener behind across 10^6 calls through the whole stack', async () => {
    const exec = compose(
      new CircuitBreaker({ name: 'leak' }),
      new Bulkhead({ maxConcurrent: 20, maxQueued: 100 }),
      new Timeout({ timeoutMs: 60_000 }),
    );
    const caller = new AbortController();
    // Every call links its context to the caller's signal; every tenth also builds the
    // call's own controller (an AbortController costs microseconds, so not all of them).
    const plain = () => 1;
    const reading = ({ signal }: { signal: AbortSignal }) => (signal.aborted ? 0 : 1);
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++)
      sum += await exec.execute(i % 10 === 0 ? reading : plain, caller.signal);
    expect(sum).toBe(1_000_000);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  }, 120_000);
});
