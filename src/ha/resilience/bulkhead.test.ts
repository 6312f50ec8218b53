import { describe, expect, it } from 'vitest';
import { Bulkhead } from './bulkhead.js';
import { ManualClock } from './clock.js';
import { type BulkheadRejectedError, isBulkheadRejectedError } from './errors.js';
import { compose } from './policy.js';
import { deferred } from './test-support.js';
import { Timeout } from './timeout.js';

function rejection(error: unknown): string {
  expect(isBulkheadRejectedError(error)).toBe(true);
  return (error as BulkheadRejectedError).reason;
}

describe('Bulkhead', () => {
  it('runs at most maxConcurrent calls, queues up to maxQueued, refuses the rest as full', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueued: 1 });
    const exec = compose(bulkhead);
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    let started = 0;
    const calls = gates.map((g) =>
      exec.execute(() => {
        started++;
        return g.promise;
      }),
    );
    expect(started).toBe(2);
    expect(bulkhead.snapshot()).toMatchObject({ inFlight: 2, queued: 1 });
    expect(rejection(await exec.execute(() => 0).catch((e: unknown) => e))).toBe('full');
    gates[0]!.resolve(1);
    await calls[0];
    expect(started).toBe(3);
    gates[1]!.resolve(2);
    gates[2]!.resolve(3);
    await expect(Promise.all(calls)).resolves.toEqual([1, 2, 3]);
    expect(bulkhead.snapshot()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('times queued waiters out', async () => {
    const clock = new ManualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 5, queueTimeoutMs: 100, scheduler: clock });
    const exec = compose(bulkhead);
    const gate = deferred();
    void exec.execute(() => gate.promise);
    const waiting = exec.execute(() => 'never').catch((e: unknown) => e);
    clock.advance(99);
    expect(bulkhead.queued).toBe(1);
    clock.advance(1);
    expect(rejection(await waiting)).toBe('queue-timeout');
    expect(bulkhead.queued).toBe(0);
  });

  it('removes an aborted waiter at once, not when it reaches the head', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 5 });
    const exec = compose(bulkhead);
    const gate = deferred();
    void exec.execute(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = exec
      .execute(() => {
        ran = true;
      }, controller.signal)
      .catch((e: unknown) => e);
    const behind = exec.execute(() => 'behind');
    expect(bulkhead.queued).toBe(2);
    controller.abort(new Error('no longer needed'));
    expect(bulkhead.queued).toBe(1);
    const error = (await waiting) as BulkheadRejectedError;
    expect(rejection(error)).toBe('aborted');
    expect((error.cause as Error).message).toBe('no longer needed');
    gate.resolve();
    await expect(behind).resolves.toBe('behind');
    expect(ran).toBe(false);
  });

  it('refuses an already-aborted signal without running the work', async () => {
    const exec = compose(new Bulkhead({ maxConcurrent: 1 }));
    let ran = false;
    const reason = new Error('aborted before');
    const result = exec.execute(() => {
      ran = true;
    }, AbortSignal.abort(reason));
    await expect(result).rejects.toBe(reason);
    expect(ran).toBe(false);
  });

  it('keeps the slot of a timed-out call until its work really settles', async () => {
    const clock = new ManualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const exec = compose(bulkhead, new Timeout({ timeoutMs: 50, scheduler: clock }));
    const work = deferred();
    const first = exec.execute(() => work.promise).catch((e: unknown) => e);
    clock.advance(50);
    expect(((await first) as Error).name).toBe('TimeoutError');
    let secondRan = false;
    const second = exec.execute(() => {
      secondRan = true;
    });
    expect(bulkhead.inFlight).toBe(1);
    expect(secondRan).toBe(false);
    work.resolve();
    await second;
    expect(secondRan).toBe(true);
    expect(bulkhead.inFlight).toBe(0);
  });
});
