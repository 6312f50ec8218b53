import { getEventListeners, setMaxListeners } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import { Bulkhead } from './bulkhead.js';
import { ManualClock } from './clock.js';
import { isStreamIdleError } from './errors.js';
import { Executor } from './policy.js';
import { Retry } from './retry.js';
import { deferred, settle } from './test-support.js';
import { Timeout } from './timeout.js';

const IDLE_MS = 60_000;

/** A source that records what happened to it: its signal, whether it was read and closed. */
interface Source {
  signal: AbortSignal | undefined;
  reads: number;
  closed: boolean;
}

function opener(sources: Source[], item: () => Promise<string> = () => Promise.resolve('line')) {
  return async ({ signal }: { signal: AbortSignal }): Promise<AsyncIterable<string>> => {
    const source: Source = { signal, reads: 0, closed: false };
    sources.push(source);
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          source.reads++;
          if (signal.aborted) throw signal.reason;
          return { done: false, value: await item() };
        },
        return: async () => {
          source.closed = true;
          return { done: true, value: undefined };
        },
      }),
    };
  };
}

function setup() {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker({ name: 'b', clock });
  const bulkhead = new Bulkhead({ maxConcurrent: 200, scheduler: clock });
  const timeout = new Timeout({ timeoutMs: 100, scheduler: clock });
  const exec = new Executor([new Retry({ scheduler: clock }), breaker, bulkhead, timeout], {
    streamIdleMs: IDLE_MS,
    scheduler: clock,
  });
  return { clock, exec, bulkhead, timeout };
}

describe('Executor.stream', () => {
  beforeAll(() => setMaxListeners(0));
  it('releases 100 streams that are opened and never read once the idle bound passes', async () => {
    const { clock, exec, bulkhead, timeout } = setup();
    const caller = new AbortController();
    const sources: Source[] = [];
    // Opened, then dropped: a client that went away before its first read.
    for (let i = 0; i < 100; i++) await exec.stream(opener(sources), caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(100);
    expect(bulkhead.inFlight).toBe(0);
    expect(timeout.pending).toBe(0);
    clock.advance(IDLE_MS - 1);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(100);
    clock.advance(1);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(sources.every((s) => s.signal?.aborted && isStreamIdleError(s.signal.reason))).toBe(true);
    expect(sources.every((s) => s.closed && s.reads === 0)).toBe(true);
    expect(clock.pendingTimers).toBeLessThanOrEqual(1);
  });

  it("releases 100 unread streams at once when the caller's signal aborts", async () => {
    const { exec } = setup();
    const caller = new AbortController();
    const sources: Source[] = [];
    const streams = [];
    for (let i = 0; i < 100; i++) streams.push(await exec.stream(opener(sources), caller.signal));
    const reason = new Error('client disconnected');
    caller.abort(reason);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(sources.every((s) => s.signal?.reason === reason && s.closed)).toBe(true);
    // A late reader learns why the stream is gone; the source is not read again.
    await expect(streams[0]!.next()).rejects.toBe(reason);
    expect(sources[0]!.reads).toBe(0);
  });

  it('closes a source that answers a read in flight after the abort, ignoring its signal', async () => {
    const { exec } = setup();
    const caller = new AbortController();
    const sources: Source[] = [];
    const item = deferred<string>();
    const stream = await exec.stream(
      opener(sources, () => item.promise),
      caller.signal,
    );
    const read = stream.next();
    await settle();
    const reason = new Error('client disconnected');
    caller.abort(reason);
    expect(sources[0]!.closed).toBe(false); // the read is still in flight
    item.resolve('late line');
    await expect(read).rejects.toBe(reason);
    expect(sources[0]!.closed).toBe(true);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('releases a stream closed with return() before its first read', async () => {
    const { exec } = setup();
    const caller = new AbortController();
    const sources: Source[] = [];
    const stream = await exec.stream(opener(sources), caller.signal);
    await stream.return?.();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(sources[0]).toMatchObject({ closed: true, reads: 0 });
    expect(sources[0]!.signal?.aborted).toBe(false);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('never counts a read in flight as idle, and restarts the bound after each read', async () => {
    const { clock, exec } = setup();
    const caller = new AbortController();
    const sources: Source[] = [];
    const item = deferred<string>();
    const stream = await exec.stream(
      opener(sources, () => item.promise),
      caller.signal,
    );
    clock.advance(IDLE_MS - 1);
    const reading = stream.next();
    // A follow stream waits on the backend as long as it must: that is not the reader's idleness.
    clock.advance(10 * IDLE_MS);
    expect(sources[0]!.signal?.aborted).toBe(false);
    item.resolve('late line');
    expect(await reading).toEqual({ done: false, value: 'late line' });
    await settle();
    clock.advance(IDLE_MS - 1);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    clock.advance(1);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    const error = await stream.next().catch((e: unknown) => e);
    expect(isStreamIdleError(error)).toBe(true);
  });

  it('turns the idle bound off with Infinity', async () => {
    const clock = new ManualClock();
    const exec = new Executor([], { streamIdleMs: Number.POSITIVE_INFINITY, scheduler: clock });
    const caller = new AbortController();
    const stream = await exec.stream(opener([]), caller.signal);
    clock.advance(100 * IDLE_MS);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
    await stream.return?.();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});
