import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from './backoff.js';
import { type GuardEvent, LeaderGuard } from './guard.js';
import { LeaderKeyRegistry } from './keys.js';
import { MemoryElector, MemoryLeadership } from './memory-elector.js';
import { createLeaderMetrics } from './metrics.js';
import type { Elector, LeaderTerm } from './port.js';
import { HeldTerm } from './term.js';

const key = new LeaderKeyRegistry().register('reconcile', 100);

/** A deferred the test resolves: lets the test decide when a singleton returns. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Records events and lets the test await the n-th event of a type. */
function recorder() {
  const events: GuardEvent[] = [];
  const waiters: Array<() => void> = [];
  return {
    events,
    onEvent(e: GuardEvent) {
      events.push(e);
      for (const w of waiters.splice(0)) w();
    },
    async until(pred: (events: GuardEvent[]) => boolean) {
      while (!pred(events)) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

describe('LeaderGuard', () => {
  it('treats a singleton that throws before returning a promise as a failed term: released, campaigned again', async () => {
    const space = new MemoryLeadership();
    const rec = recorder();
    let calls = 0;
    const guard = new LeaderGuard({
      elector: new MemoryElector('n1', space),
      key,
      onEvent: rec.onEvent,
      backoff: { initialMs: 1, maxMs: 1, floorMs: 1 },
      run: (signal) => {
        calls++;
        if (calls === 1) throw new Error('broken before its first await');
        return new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      },
    });
    const stop = new AbortController();
    const done = guard.start(stop.signal);
    await rec.until((e) => e.filter((x) => x.type === 'elected').length === 2);
    expect(rec.events.find((x) => x.type === 'ended')).toMatchObject({
      epoch: 1,
      reason: 'singleton-failed',
    });
    expect(space.holder(key.id)).toBeDefined();
    stop.abort();
    await done;
    expect(space.holder(key.id)).toBeUndefined();
  });

  it('runs the singleton while leader, aborts it on loss, waits for it, and runs it again on re-election', async () => {
    const space = new MemoryLeadership();
    const rec = recorder();
    const terms: LeaderTerm[] = [];
    const stopped = deferred();
    let running = 0;
    let maxRunning = 0;
    const guard = new LeaderGuard({
      elector: new MemoryElector('n1', space),
      key,
      onEvent: rec.onEvent,
      backoff: { initialMs: 1, maxMs: 1, floorMs: 1 },
      run: async (signal, term) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        terms.push(term);
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        // A slow stop: the guard must not campaign again before this returns.
        if (terms.length === 1) await stopped.promise;
        running--;
      },
    });
    const stop = new AbortController();
    const done = guard.start(stop.signal);

    await rec.until((e) => e.some((x) => x.type === 'elected'));
    space.revoke(key.id);
    await rec.until((e) => e.some((x) => x.type === 'lost'));
    expect(rec.events.some((x) => x.type === 'ended')).toBe(false);
    expect(space.holder(key.id)).toBeUndefined();
    stopped.resolve();
    await rec.until((e) => e.filter((x) => x.type === 'elected').length === 2);
    expect(terms.map((t) => t.epoch)).toEqual([1, 2]);
    expect(maxRunning).toBe(1);

    stop.abort();
    await done;
    expect(rec.events.map((e) => e.type)).toEqual(['elected', 'lost', 'ended', 'elected', 'ended']);
    expect(rec.events.at(-1)).toMatchObject({ type: 'ended', epoch: 2, reason: 'shutdown' });
    // Shutdown released the key at once.
    expect(space.holder(key.id)).toBeUndefined();
  });

  it('hands over to a peer when stopped, and records leadership in metrics', async () => {
    const space = new MemoryLeadership();
    const registry = new Registry();
    const metrics = createLeaderMetrics(registry);
    const rec = recorder();
    const guard = (node: string) =>
      new LeaderGuard({
        elector: new MemoryElector(node, space),
        key,
        metrics,
        onEvent: rec.onEvent,
        run: (signal) => new Promise((r) => signal.addEventListener('abort', () => r(), { once: true })),
      });
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = guard('a').start(stopA.signal);
    await rec.until((e) => e.length === 1);
    const b = guard('b').start(stopB.signal);
    expect(space.holder(key.id)?.nodeId).toBe('a');
    stopA.abort();
    await a;
    await rec.until((e) => e.filter((x) => x.type === 'elected').length === 2);
    expect(space.holder(key.id)).toMatchObject({ nodeId: 'b', epoch: 2 });
    stopB.abort();
    await b;
    const text = await registry.metrics();
    expect(text).toContain('stratus_leader{key="reconcile"} 0');
    expect(text).toContain('stratus_leader_transitions_total{key="reconcile",transition="elected"} 2');
    expect(text).toContain('stratus_leader_transitions_total{key="reconcile",transition="shutdown"} 2');
  });

  it('backs off exponentially after campaign failures instead of looping hot', async () => {
    const attempts: number[] = [];
    const delays: number[] = [];
    const stop = new AbortController();
    const failing: Elector = {
      nodeId: 'n',
      async campaign() {
        attempts.push(performance.now());
        if (attempts.length === 5) stop.abort();
        throw new Error('database down');
      },
      async release() {},
      async close() {},
    };
    const guard = new LeaderGuard({
      elector: failing,
      key,
      backoff: { initialMs: 10, maxMs: 80, floorMs: 5 },
      random: () => 1,
      onEvent: (e) => {
        if (e.type === 'campaign-failed') delays.push(e.retryInMs);
      },
      run: async () => {},
    });
    await guard.start(stop.signal);
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(attempts).toHaveLength(5);
  });

  it('releases the key and backs off when the singleton fails', async () => {
    const space = new MemoryLeadership();
    const rec = recorder();
    const stop = new AbortController();
    let runs = 0;
    const guard = new LeaderGuard({
      elector: new MemoryElector('n', space),
      key,
      onEvent: rec.onEvent,
      backoff: { initialMs: 1, maxMs: 1, floorMs: 1 },
      run: async () => {
        runs++;
        // The third run is stopped: a throw while stopping is not a failure.
        if (runs === 3) stop.abort();
        throw new Error('boom');
      },
    });
    await guard.start(stop.signal);
    expect(rec.events.filter((e) => e.type === 'singleton-failed')).toHaveLength(2);
    expect(rec.events.filter((e) => e.type === 'ended').map((e) => (e as { reason: string }).reason)).toEqual(
      ['singleton-failed', 'singleton-failed', 'shutdown'],
    );
    expect(space.holder(key.id)).toBeUndefined();
  });
});

/** The value of `stratus_leader{key}` on `registry` (undefined when the series does not exist). */
async function leaderGauge(registry: Registry): Promise<number | undefined> {
  const metric = registry.getSingleMetric('stratus_leader');
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.key === key.name)?.value;
}

/** A logger that keeps its error lines. */
function errorLog() {
  const errors: string[] = [];
  const none = () => {};
  return {
    errors,
    logger: { info: none, warn: none, debug: none, error: (_: object, msg: string) => errors.push(msg) },
  };
}

describe('LeaderGuard with a singleton that ignores its abort', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits at most the grace after a loss, then logs, counts and campaigns again, never reporting leadership meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const space = new MemoryLeadership();
    const registry = new Registry();
    const rec = recorder();
    const log = errorLog();
    const never = new Promise<void>(() => {});
    const guard = new LeaderGuard({
      elector: new MemoryElector('n1', space),
      key,
      metrics: createLeaderMetrics(registry),
      logger: log.logger,
      onEvent: rec.onEvent,
      singletonStopGraceMs: 1_000,
      backoff: { initialMs: 10, maxMs: 10, floorMs: 10 },
      run: () => never,
    });
    const stop = new AbortController();
    const done = guard.start(stop.signal);
    await rec.until((e) => e.some((x) => x.type === 'elected'));
    expect(await leaderGauge(registry)).toBe(1);

    space.revoke(key.id);
    await rec.until((e) => e.some((x) => x.type === 'lost'));
    expect(await leaderGauge(registry)).toBe(0);
    await vi.advanceTimersByTimeAsync(999);
    expect(rec.events.map((e) => e.type)).toEqual(['elected', 'lost']);
    expect(await leaderGauge(registry)).toBe(0);

    await vi.advanceTimersByTimeAsync(1);
    await rec.until((e) => e.some((x) => x.type === 'ended'));
    expect(rec.events.map((e) => e.type)).toEqual(['elected', 'lost', 'singleton-stuck', 'ended']);
    expect(log.errors).toContain('singleton ignored its abort');
    expect(await registry.metrics()).toContain('stratus_leader_singleton_stuck_total{key="reconcile"} 1');
    // It goes on: after its backoff it is elected again, with a newer epoch.
    await vi.advanceTimersByTimeAsync(10);
    await rec.until((e) => e.filter((x) => x.type === 'elected').length === 2);
    expect(space.holder(key.id)?.epoch).toBe(2);

    // A shutdown is bounded the same way, and gives the key up.
    stop.abort();
    await vi.advanceTimersByTimeAsync(1_000);
    await done;
    expect(rec.events.at(-1)).toMatchObject({ type: 'ended', epoch: 2, reason: 'shutdown' });
    expect(rec.events.filter((e) => e.type === 'singleton-stuck')).toHaveLength(2);
    expect(space.holder(key.id)).toBeUndefined();
    expect(await leaderGauge(registry)).toBe(0);
  });
});

describe('the stratus_leader gauge', () => {
  it('reads 1 only while the term is held: a slow-to-stop deposed leader and its successor never both read 1', async () => {
    const space = new MemoryLeadership();
    const registries = { a: new Registry(), b: new Registry() };
    const rec = recorder();
    const slowStop = deferred();
    const both: Array<[number | undefined, number | undefined]> = [];
    const guard = (node: 'a' | 'b') =>
      new LeaderGuard({
        elector: new MemoryElector(node, space),
        key,
        metrics: createLeaderMetrics(registries[node]),
        onEvent: rec.onEvent,
        run: async (signal) => {
          await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
          if (node === 'a') await slowStop.promise;
        },
      });
    const stop = new AbortController();
    const a = guard('a').start(stop.signal);
    await rec.until((e) => e.some((x) => x.type === 'elected'));
    const b = guard('b').start(stop.signal);
    // A follower that never led exposes 0, not nothing.
    expect(await leaderGauge(registries.b)).toBe(0);
    expect(await leaderGauge(registries.a)).toBe(1);

    space.revoke(key.id);
    await rec.until((e) => e.filter((x) => x.type === 'elected').length === 2);
    both.push([await leaderGauge(registries.a), await leaderGauge(registries.b)]);
    slowStop.resolve();
    await rec.until((e) => e.some((x) => x.type === 'ended'));
    both.push([await leaderGauge(registries.a), await leaderGauge(registries.b)]);
    stop.abort();
    await Promise.all([a, b]);
    expect(both).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });
});

describe('LeaderGuard handed a term that already ended', () => {
  it('reports it lost and aborts its singleton at once', async () => {
    const rec = recorder();
    const stop = new AbortController();
    let campaigns = 0;
    const ended = new HeldTerm(key.name, key.id, 7, 'n', new Date(), () => false);
    ended.end('session-lost');
    const elector: Elector = {
      nodeId: 'n',
      async campaign(_key, signal) {
        campaigns++;
        if (campaigns === 1) return ended;
        stop.abort();
        signal.throwIfAborted();
        throw new Error('unreachable');
      },
      async release() {},
      async close() {},
    };
    const seen: boolean[] = [];
    const guard = new LeaderGuard({
      elector,
      key,
      onEvent: rec.onEvent,
      backoff: { initialMs: 1, maxMs: 1, floorMs: 1 },
      run: async (signal) => {
        seen.push(signal.aborted);
      },
    });
    await guard.start(stop.signal);
    expect(seen).toEqual([true]);
    expect(rec.events).toEqual([
      { type: 'elected', key: key.name, epoch: 7 },
      { type: 'lost', key: key.name, epoch: 7, reason: 'session-lost' },
      { type: 'ended', key: key.name, epoch: 7, reason: 'session-lost' },
    ]);
  });
});

describe('backoffDelay', () => {
  it('stays within [floor, min(max, initial * 2^(n-1))] and its cap never shrinks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const o = { initialMs: 100, maxMs: 5_000, floorMs: 20 };
          const d = backoffDelay(attempt, o, () => r);
          const cap = Math.min(o.maxMs, o.initialMs * 2 ** (attempt - 1));
          expect(d).toBeGreaterThanOrEqual(o.floorMs);
          expect(d).toBeLessThanOrEqual(cap);
          expect(backoffDelay(attempt + 1, o, () => 1)).toBeGreaterThanOrEqual(
            backoffDelay(attempt, o, () => 1),
          );
        },
      ),
    );
  });
});
