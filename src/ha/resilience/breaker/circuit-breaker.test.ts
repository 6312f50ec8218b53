import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.js';
import { CallContext } from '../context.js';
import { Emitter, setListenerErrorHandler } from '../emitter.js';
import { type CircuitOpenError, isCircuitOpenError, ResilienceErrorCode } from '../errors.js';
import { compose } from '../policy.js';
import { deferred } from '../test-support.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions, StateChange } from './options.js';

const boom = (): Promise<never> => Promise.reject(new Error('backend down'));
const ok = (): Promise<string> => Promise.resolve('ok');

function setup(options: Omit<CircuitBreakerOptions, 'clock'> = {}) {
  const clock = new ManualClock(1_000);
  const breaker = new CircuitBreaker({ name: 'b', consecutiveFailures: 3, openMs: 1_000, clock, ...options });
  const changes: StateChange[] = [];
  breaker.onStateChange.on((e) => changes.push(e));
  const exec = compose(breaker);
  const trip = async () => {
    for (let i = 0; i < 3; i++) await exec.execute(boom).catch(() => {});
  };
  return { clock, breaker, changes, exec, trip };
}

describe('CircuitBreaker', () => {
  it('trips, probes and recovers through all three transitions', async () => {
    const { clock, breaker, changes, exec, trip } = setup();
    await trip();
    expect(breaker.state).toBe('open');
    const refused = await exec.execute(ok).catch((e: unknown) => e);
    expect(isCircuitOpenError(refused)).toBe(true);
    expect((refused as CircuitOpenError).retryAfterMs).toBe(1_000);
    clock.advance(1_000);
    await expect(exec.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('half-open');
    await expect(exec.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      ['closed', 'open', 'consecutive-failures'],
      ['open', 'half-open', 'open-elapsed'],
      ['half-open', 'closed', 'probes-succeeded'],
    ]);
  });

  it('tells the refusal a call would meet without granting or moving anything', async () => {
    const { clock, breaker, changes, exec, trip } = setup();
    expect(breaker.refusal()).toBeUndefined();
    await trip();
    const refused = breaker.refusal();
    expect(refused?.retryAfterMs).toBe(1_000);
    expect(breaker.snapshot().totals.rejected).toBe(1);
    clock.advance(1_000);
    // The open period is over: no refusal, and the move to half-open is left to the call.
    expect(breaker.refusal()).toBeUndefined();
    expect(breaker.state).toBe('open');
    const probe = deferred<string>();
    const probing = exec.execute(() => probe.promise);
    expect(breaker.state).toBe('half-open');
    // The probe slot is taken: refused, as run() would.
    expect(breaker.refusal()?.retryAfterMs).toBe(30_000);
    probe.resolve('ok');
    await probing;
    expect(breaker.refusal()).toBeUndefined();
    breaker.isolate();
    expect(breaker.refusal()?.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'isolated']);
  });

  it('reopens when a probe fails, and needs successesToClose successes in a row', async () => {
    const { clock, breaker, exec, trip } = setup({ halfOpen: { successesToClose: 3 } });
    await trip();
    clock.advance(1_000);
    await exec.execute(ok);
    await exec.execute(ok);
    expect(breaker.state).toBe('half-open');
    await exec.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('is not wedged by a probe that throws synchronously', async () => {
    const { clock, breaker, exec, trip } = setup();
    await trip();
    clock.advance(1_000);
    const thrown = await exec
      .execute(() => {
        throw new Error('sync');
      })
      .catch((e: unknown) => e);
    expect((thrown as Error).message).toBe('sync');
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    await expect(exec.execute(ok)).resolves.toBe('ok');
  });

  it('is not wedged by a probe that never settles: the probe deadline reopens it', async () => {
    const { clock, breaker, changes, exec, trip } = setup({ halfOpen: { probeTimeoutMs: 500 } });
    await trip();
    clock.advance(1_000);
    void exec.execute(() => new Promise<never>(() => {}));
    expect(breaker.snapshot().halfOpen.probes).toBe(1);
    clock.advance(499);
    expect(isCircuitOpenError(await exec.execute(ok).catch((e: unknown) => e))).toBe(true);
    expect(breaker.state).toBe('half-open');
    clock.advance(1);
    await exec.execute(ok).catch(() => {});
    expect(changes.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'probe-timeout' });
    clock.advance(1_000);
    await expect(exec.execute(ok)).resolves.toBe('ok');
    expect(breaker.snapshot().halfOpen.successes).toBe(1);
  });

  it('lets exactly one probe through among 100 concurrent callers; the rest fail fast', async () => {
    const { clock, breaker, exec, trip } = setup();
    await trip();
    clock.advance(1_000);
    const probe = deferred<string>();
    let started = 0;
    const calls = Array.from({ length: 100 }, () =>
      exec.execute(() => {
        started++;
        return probe.promise;
      }),
    );
    expect(started).toBe(1);
    const results = await Promise.allSettled(calls.slice(1));
    expect(results.every((r) => r.status === 'rejected' && isCircuitOpenError(r.reason))).toBe(true);
    probe.resolve('ok');
    await calls[0];
    expect(breaker.snapshot().halfOpen).toEqual({ probes: 0, successes: 1 });
  });

  it('keeps single flight when a half-open listener calls the breaker back', async () => {
    const { clock, breaker, trip } = setup({ halfOpen: { permits: 1 } });
    await trip();
    clock.advance(1_000);
    const fromListener: (unknown | null)[] = [];
    const retryAfter: number[] = [];
    breaker.onStateChange.on((change) => {
      if (change.to !== 'half-open') return;
      fromListener.push(breaker.tryAcquire());
      retryAfter.push(breaker.retryAfterMs);
    });
    const fromCaller = breaker.tryAcquire();
    expect(fromCaller).not.toBeNull();
    expect(fromListener).toEqual([null]);
    // The listener was told when the caller's probe deadline passes (probeTimeoutMs 30 s).
    expect(retryAfter).toEqual([30_000]);
    expect(breaker.snapshot().halfOpen.probes).toBe(1);
  });

  it('announces changes in order when a listener causes another one', async () => {
    const { clock, breaker, changes, trip } = setup({ halfOpen: { permits: 1, successesToClose: 1 } });
    await trip();
    clock.advance(1_000);
    const seen: string[] = [];
    breaker.onStateChange.on((change) => {
      seen.push(`${change.from}>${change.to}`);
      // Reopens the breaker from inside the announcement of half-open.
      if (change.to === 'half-open') breaker.isolate();
    });
    const probe = breaker.tryAcquire();
    expect(probe).not.toBeNull();
    expect(breaker.state).toBe('isolated');
    expect(seen).toEqual(['open>half-open', 'half-open>isolated']);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'isolated']);
    // The probe belongs to a period that ended: its success moves nothing.
    breaker.record(probe!, 'success');
    expect(breaker.state).toBe('isolated');
  });

  it('ignores a late result from an earlier period: statistics only, never a state change', async () => {
    const { clock, breaker, exec, trip } = setup();
    const slow = deferred<string>();
    const late = exec.execute(() => slow.promise).catch(() => {});
    await trip();
    clock.advance(1_000);
    const probe = deferred<string>();
    const probeCall = exec.execute(() => probe.promise);
    slow.reject(new Error('late failure'));
    await late;
    expect(breaker.state).toBe('half-open');
    expect(breaker.snapshot().totals.late).toBe(1);
    probe.resolve('ok');
    await probeCall;
    await exec.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('keeps a late failure out of the failure-rate window of the next closed period', async () => {
    const { clock, breaker, exec } = setup({
      consecutiveFailures: 0,
      failureRate: { threshold: 0.5, minimumCalls: 2, window: { type: 'count', size: 10 } },
      halfOpen: { successesToClose: 1 },
    });
    const slow = deferred<string>();
    const late = exec.execute(() => slow.promise).catch(() => {});
    await exec.execute(boom).catch(() => {});
    await exec.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    await exec.execute(ok);
    expect(breaker.state).toBe('closed');
    slow.reject(new Error('late failure'));
    await late;
    expect(breaker.snapshot().window).toEqual({ calls: 0, failures: 0 });
    expect(breaker.snapshot().totals.late).toBe(1);
    // One genuine failure is below minimumCalls: the breaker must stay closed.
    await exec.execute(boom).catch(() => {});
    expect(breaker.snapshot().window).toEqual({ calls: 1, failures: 1 });
    expect(breaker.state).toBe('closed');
  });

  it('keeps a late success out of the window too', async () => {
    const { clock, breaker, exec } = setup({
      consecutiveFailures: 0,
      failureRate: { threshold: 0.5, minimumCalls: 2, window: { type: 'count', size: 10 } },
      halfOpen: { successesToClose: 1 },
    });
    const slow = deferred<string>();
    const late = exec.execute(() => slow.promise);
    await exec.execute(boom).catch(() => {});
    await exec.execute(boom).catch(() => {});
    clock.advance(1_000);
    await exec.execute(ok);
    slow.resolve('late');
    await late;
    expect(breaker.snapshot().window).toEqual({ calls: 0, failures: 0 });
  });

  it('counts ignored errors and caller aborts as neither success nor failure', async () => {
    const notFound = Object.assign(new Error('no such thing'), { kind: 'not-found' });
    const { breaker, exec } = setup({
      classify: (e) => ((e as { kind?: string }).kind === 'not-found' ? 'ignored' : 'failure'),
    });
    for (let i = 0; i < 10; i++) await exec.execute(() => Promise.reject(notFound)).catch(() => {});
    const controller = new AbortController();
    const aborted = exec.execute(
      ({ signal }) =>
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort(new Error('caller gave up'));
    await aborted.catch(() => {});
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().totals).toMatchObject({ failures: 0, ignored: 11 });
  });

  it('opens on a failure rate over a count window once minimumCalls is reached', async () => {
    const { breaker, exec } = setup({
      consecutiveFailures: 0,
      failureRate: { threshold: 0.5, minimumCalls: 4, window: { type: 'count', size: 4 } },
    });
    await exec.execute(ok);
    await exec.execute(boom).catch(() => {});
    await exec.execute(ok);
    expect(breaker.state).toBe('closed');
    await exec.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('forgets failures that slid out of a time window', async () => {
    const { clock, breaker, exec } = setup({
      consecutiveFailures: 0,
      failureRate: { threshold: 0.5, minimumCalls: 2, window: { type: 'time', sizeMs: 1_000, buckets: 10 } },
    });
    await exec.execute(boom).catch(() => {});
    clock.advance(1_500);
    await exec.execute(ok);
    await exec.execute(ok);
    expect(breaker.snapshot().window).toEqual({ calls: 2, failures: 0 });
    await exec.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed');
    await exec.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('counts a slow success as a failure', async () => {
    const { clock, breaker, exec } = setup({ consecutiveFailures: 1, slowCallMs: 100 });
    await exec.execute(async () => {
      clock.advance(100);
      return 1;
    });
    expect(breaker.state).toBe('open');
  });

  it('grows the open duration on repeated trips, up to its maximum', async () => {
    const { clock, breaker, exec, trip } = setup({ openBackoff: { multiplier: 2, maxMs: 3_000 } });
    await trip();
    const retryAfter = [breaker.snapshot().retryAfterMs];
    for (let i = 0; i < 2; i++) {
      clock.advance(retryAfter.at(-1)!);
      await exec.execute(boom).catch(() => {});
      retryAfter.push(breaker.snapshot().retryAfterMs);
    }
    expect(retryAfter).toEqual([1_000, 2_000, 3_000]);
  });

  it('isolates and resets by hand', async () => {
    const { clock, breaker, exec } = setup();
    breaker.isolate();
    clock.advance(1_000_000);
    const refused = await exec.execute(ok).catch((e: unknown) => e);
    expect((refused as CircuitOpenError).retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    breaker.reset();
    await expect(exec.execute(ok)).resolves.toBe('ok');
  });

  it('keeps working when a listener throws, and reports the error', async () => {
    const reported: unknown[] = [];
    setListenerErrorHandler((e) => reported.push(e));
    const { breaker, trip } = setup();
    breaker.onStateChange.on(() => {
      throw new Error('listener bug');
    });
    await trip();
    expect(breaker.state).toBe('open');
    expect(reported).toHaveLength(1);
    setListenerErrorHandler(() => {});
  });

  it('builds no event while nobody listens', async () => {
    const emit = vi.spyOn(Emitter.prototype, 'emit');
    try {
      const clock = new ManualClock();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openMs: 10, clock });
      const exec = compose(breaker);
      await exec.execute(boom).catch(() => {});
      await exec.execute(ok).catch(() => {});
      expect(breaker.state).toBe('open');
      expect(emit).not.toHaveBeenCalled();
      breaker.onRejected.on(() => {});
      await exec.execute(ok).catch(() => {});
      expect(emit).toHaveBeenCalledTimes(1);
    } finally {
      emit.mockRestore();
    }
  });

  it('hands the permit back when the next step throws synchronously', async () => {
    const { clock, breaker, trip } = setup();
    await trip();
    clock.advance(1_000);
    const ctx = new CallContext(() => 0, false, undefined);
    const thrown = await breaker
      .run(ctx, () => {
        throw new Error('sync');
      })
      .catch((e: unknown) => e);
    expect((thrown as Error).message).toBe('sync');
    expect(breaker.snapshot()).toMatchObject({ state: 'open', halfOpen: { probes: 0 } });
  });

  it('builds fail-fast errors without a stack, recognised by code and brand across copies', async () => {
    const { exec, trip } = setup();
    await trip();
    const error = (await exec.execute(ok).catch((e: unknown) => e)) as CircuitOpenError;
    expect(error.code).toBe(ResilienceErrorCode.CircuitOpen);
    expect(error.stack?.split('\n')).toHaveLength(1);
    const fromOtherCopy = { code: 'ERR_CIRCUIT_OPEN', [Symbol.for('stratus.resilience.error')]: true };
    expect(isCircuitOpenError(fromOtherCopy)).toBe(true);
    expect(isCircuitOpenError({ code: 'ERR_CIRCUIT_OPEN' })).toBe(false);
  });
});
