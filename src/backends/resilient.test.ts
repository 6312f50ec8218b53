import { getEventListeners, setMaxListeners } from 'node:events';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  isConflictError,
  isInvalidInputError,
  isNotFoundError,
  UnavailableError,
} from '../core/errors/backend-errors.js';
import { ManualClock } from '../ha/resilience/clock.js';
import {
  isBulkheadRejectedError,
  isCircuitOpenError,
  isStreamIdleError,
  isTimeoutError,
  type TimeoutError,
} from '../ha/resilience/errors.js';
import { settle } from '../ha/resilience/test-support.js';
import { createSimBackends } from '../sim/index.js';
import { createBackends } from './index.js';

const spec = { name: 'web', image: 'ubuntu', size: 'small' };

/** Moves the clock in steps of `stepMs` until `call` settles; returns when it did (on the clock). */
async function settledAt(clock: ManualClock, call: Promise<unknown>, stepMs = 100, limitMs = 120_000) {
  let done = false;
  void call.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  const start = clock.now();
  for (await settle(); !done && clock.now() - start < limitMs; await settle()) clock.advance(stepMs);
  return clock.now() - start;
}

function setup(options: Parameters<typeof createBackends>[0] = {}) {
  const clock = new ManualClock();
  const memory = createSimBackends({ scheduler: clock });
  const backends = createBackends({ memory, scheduler: clock, ...options });
  return { clock, memory, cloud: memory.cloud, backends };
}

describe('resilient backends', () => {
  it('passes calls through to the raw port with the client token intact', async () => {
    const { backends, cloud } = setup();
    const instance = await backends.compute.createInstance(spec, { clientToken: 'job-1' });
    await expect(backends.compute.getInstance(instance.id)).resolves.toEqual(instance);
    expect(cloud.auditOf('job-1')).toHaveLength(1);
  });

  it('aborts the underlying operation at its timeout (the backend observes the abort)', async () => {
    const { backends, cloud, clock } = setup();
    cloud.inject('storage.createVolume', { kind: 'hang' });
    const call = backends.storage
      .createVolume({ name: 'v', sizeGiB: 1 }, { clientToken: 't' })
      .catch((e) => e);
    clock.advance(59_999);
    await settle();
    expect(cloud.aborts).toHaveLength(0);
    clock.advance(1);
    expect(isTimeoutError(await call)).toBe(true);
    expect(cloud.aborts).toMatchObject([{ backend: 'storage', op: 'createVolume' }]);
    expect(cloud.auditOf('t')).toHaveLength(0);
  });

  it('does not let a saturated compute bulkhead delay network calls', async () => {
    const { backends, cloud } = setup({ compute: { bulkhead: { maxConcurrent: 2, maxQueued: 0 } } });
    cloud.inject('compute.*', { kind: 'hang' });
    const stuck = [backends.compute.ping(), backends.compute.ping()];
    const refused = await backends.compute.ping().catch((e) => e);
    expect(isBulkheadRejectedError(refused)).toBe(true);
    // No clock moves: network answers while compute is full.
    await expect(backends.network.listNetworks()).resolves.toEqual({ items: [] });
    expect(backends.health().compute.bulkhead.inFlight).toBe(2);
    expect(backends.health().network.bulkhead.inFlight).toBe(0);
    void stuck;
  });

  it('trips the breaker on backend failures, not on not-found, invalid input or conflicts', async () => {
    const { backends, cloud } = setup();
    for (let i = 0; i < 10; i++)
      expect(isNotFoundError(await backends.dns.getZone('none').catch((e) => e))).toBe(true);
    for (let i = 0; i < 10; i++) {
      const error = await backends.dns
        .createZone({ domain: 'nodot' }, { clientToken: `bad${i}` })
        .catch((e) => e);
      expect(isInvalidInputError(error)).toBe(true);
    }
    await backends.dns.createZone({ domain: 'a.test' }, { clientToken: 'reused' });
    for (let i = 0; i < 10; i++) {
      const error = await backends.dns
        .createZone({ domain: 'b.test' }, { clientToken: 'reused' })
        .catch((e) => e);
      expect(isConflictError(error)).toBe(true);
    }
    expect(backends.health().dns.breaker).toMatchObject({
      state: 'closed',
      totals: { failures: 0, ignored: 30 },
    });
    cloud.inject('dns.createZone', { kind: 'error', error: () => new UnavailableError('dns down') });
    // One unavailable answer, then ignored errors: these must not reset the failure count.
    await backends.dns.createZone({ domain: 'c.test' }, { clientToken: 'z' }).catch(() => {});
    await backends.dns.getZone('none').catch(() => {});
    expect(backends.health().dns.breaker.consecutiveFailures).toBe(1);
  });

  it('uses the default limits: 5 failures trip for 30 s, 2 successes close, bulkheads 20/15/10', async () => {
    const { backends, cloud, clock } = setup();
    cloud.inject('dns.createZone', { kind: 'error', error: () => new UnavailableError('dns down') });
    for (let i = 0; i < 4; i++)
      await backends.dns.createZone({ domain: 'a.test' }, { clientToken: `z${i}` }).catch(() => {});
    expect(backends.health().dns.breaker.state).toBe('closed');
    await backends.dns.createZone({ domain: 'a.test' }, { clientToken: 'z4' }).catch(() => {});
    expect(backends.health().dns.breaker.state).toBe('open');
    expect(isCircuitOpenError(await backends.dns.ping().catch((e) => e))).toBe(true);
    cloud.clearFaults();
    clock.advance(29_999);
    expect(isCircuitOpenError(await backends.dns.ping().catch((e) => e))).toBe(true);
    clock.advance(1);
    await backends.dns.ping();
    expect(backends.health().dns.breaker.state).toBe('half-open');
    await backends.dns.ping();
    expect(backends.health().dns.breaker.state).toBe('closed');
    const health = backends.health();
    expect(health.compute.bulkhead).toMatchObject({ maxConcurrent: 20, maxQueued: 20 });
    expect(health.network.bulkhead).toMatchObject({ maxConcurrent: 15, maxQueued: 15 });
    expect(health.storage.bulkhead).toMatchObject({ maxConcurrent: 10, maxQueued: 10 });
  });

  it('refuses a call its open breaker would refuse before arming any deadline or retry timer', async () => {
    class CountingClock extends ManualClock {
      armed = 0;
      override setTimer(callback: () => void, delayMs: number) {
        this.armed++;
        return super.setTimer(callback, delayMs);
      }
    }
    const clock = new CountingClock();
    const memory = createSimBackends({ scheduler: clock });
    const backends = createBackends({ memory, scheduler: clock });
    memory.cloud.inject('dns.*', { kind: 'error', error: () => new UnavailableError('dns down') });
    for (let i = 0; i < 5; i++) await backends.dns.ping().catch(() => {});
    expect(backends.health().dns.breaker.state).toBe('open');
    clock.armed = 0;
    const rejectedBefore = backends.health().dns.breaker.totals.rejected;
    // listZones is idempotent (deadline and retry), createZone is not (deadline only).
    const refused = [
      await backends.dns.listZones().catch((e) => e),
      await backends.dns.createZone({ domain: 'a.test' }, { clientToken: 'open' }).catch((e) => e),
    ];
    expect(refused.map(isCircuitOpenError)).toEqual([true, true]);
    expect(clock.armed).toBe(0);
    expect(backends.health().dns.breaker.totals.rejected).toBe(rejectedBefore + 2);
    expect(memory.cloud.auditOf('open')).toHaveLength(0);
    // Once the open period has passed, the call goes through the layers and probes.
    memory.cloud.clearFaults();
    clock.advance(30_000);
    await backends.dns.ping();
    expect(backends.health().dns.breaker.state).toBe('half-open');
  });

  it('retries idempotent reads on transient errors, and never a mutation', async () => {
    const { backends, cloud, clock } = setup();
    cloud.inject('loadBalancer.listLoadBalancers', { kind: 'error', times: 2 });
    const listing = backends.loadBalancer.listLoadBalancers();
    for (let i = 0; i < 5; i++) {
      await settle();
      clock.advance(2_000);
    }
    await expect(listing).resolves.toEqual({ items: [] });

    cloud.inject('loadBalancer.createLoadBalancer', { kind: 'error', times: 1 });
    const created = backends.loadBalancer
      .createLoadBalancer({ name: 'lb', listenPort: 80 }, { clientToken: 'lb-1' })
      .catch((e) => e);
    expect((await created) as Error).toBeInstanceOf(UnavailableError);
    expect(cloud.auditOf('lb-1')).toHaveLength(0);
  });

  it('refuses an already-aborted signal without reaching the backend', async () => {
    const { backends, cloud } = setup();
    const reason = new Error('cancelled');
    await expect(
      backends.compute.createInstance(spec, { clientToken: 'never', signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(cloud.audit).toHaveLength(0);
  });

  it('keeps a log stream readable past the opening deadline until it is closed', async () => {
    const { backends, memory, clock } = setup();
    const instance = await backends.compute.createInstance(spec, { clientToken: 'c' });
    const logs = await backends.compute.streamLogs(instance.id, { follow: true });
    // Past the 10 s opening deadline, within the 60 s idle bound.
    clock.advance(30_000);
    memory.compute.appendLog(instance.id, 'still here');
    const iterator = logs[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.line).toContain('created');
    expect((await iterator.next()).value?.line).toBe('still here');
    await iterator.return?.();
    expect(memory.cloud.aborts).toHaveLength(0);
  });

  it("passes the caller's abort to a log stream it opened, after the opening deadline", async () => {
    const { backends, memory, clock } = setup();
    const instance = await backends.compute.createInstance(spec, { clientToken: 'c' });
    const controller = new AbortController();
    const logs = await backends.compute.streamLogs(instance.id, { follow: true, signal: controller.signal });
    // Past the 10 s opening deadline, within the 60 s idle bound.
    clock.advance(30_000);
    const iterator = logs[Symbol.asyncIterator]();
    await iterator.next();
    const waiting = iterator.next().catch((e: unknown) => e);
    const reason = new Error('viewer left');
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    expect(memory.cloud.aborts).toMatchObject([{ backend: 'compute', op: 'streamLogs', reason }]);
  });

  it('sends health pings through the same bulkhead', async () => {
    const { backends, cloud } = setup({ dns: { bulkhead: { maxConcurrent: 1, maxQueued: 0 } } });
    cloud.inject('dns.listZones', { kind: 'hang' });
    void backends.dns.listZones().catch(() => {});
    expect(isBulkheadRejectedError(await backends.dns.ping().catch((e) => e))).toBe(true);
  });

  it('exports metrics for every backend into the given registry', async () => {
    const registry = new Registry();
    const { backends } = setup({ registry });
    await backends.compute.ping();
    const text = await registry.metrics();
    for (const kind of ['compute', 'network', 'storage', 'dns', 'loadBalancer', 'webhook']) {
      expect(text).toContain(`stratus_breaker_state{policy="${kind}",state="closed"} 1`);
    }
  });

  it('bounds a read by its deadline over bulkhead queueing, attempts and backoff', async () => {
    const { backends, cloud, clock } = setup({ compute: { bulkhead: { maxConcurrent: 1, maxQueued: 1 } } });
    const instance = await backends.compute.createInstance(spec, { clientToken: 'c' });
    // The only slot is held for 4 s by a call its caller then gives up on.
    cloud.inject('compute.ping', { kind: 'hang' });
    const holder = new AbortController();
    const held = backends.compute.ping({ signal: holder.signal }).catch(() => {});
    clock.setTimer(() => holder.abort(new Error('gave up')), 4_000);
    cloud.inject('compute.getInstance', { kind: 'hang' });
    const read = backends.compute.getInstance(instance.id).catch((e: unknown) => e);
    const elapsed = await settledAt(clock, read);
    const error = await read;
    // 4 s queued + 6 s of attempts: the 10 s deadline, not 4 + 3 × 10 s + backoff.
    expect(elapsed).toBeLessThanOrEqual(10_000);
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).policy).toBe('compute.getInstance');
    await held;
    // Two attempts: the first abandoned at its 5 s attempt timeout, the second cut by the
    // deadline; the backend saw both aborts, and the slot came back.
    const reasons = cloud.aborts
      .filter((a) => a.op === 'getInstance')
      .map((a) => (a.reason as TimeoutError).policy);
    expect(reasons).toEqual(['compute.getInstance.attempt', 'compute.getInstance']);
    await settle();
    expect(backends.health().compute.bulkhead).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('abandons a hung attempt of a read at its attempt timeout and retries within the deadline', async () => {
    const { backends, cloud, clock } = setup();
    const instance = await backends.compute.createInstance(spec, { clientToken: 'c' });
    cloud.inject('compute.getInstance', { kind: 'hang', times: 1 });
    const read = backends.compute.getInstance(instance.id);
    const elapsed = await settledAt(clock, read, 50);
    await expect(read).resolves.toEqual(instance);
    // The first attempt is given up at 5 s; the second answers after a backoff of ≤ 100 ms.
    expect(elapsed).toBeGreaterThanOrEqual(5_000);
    expect(elapsed).toBeLessThan(5_500);
    expect(backends.health().compute.breaker.consecutiveFailures).toBe(0);
  });

  it('counts the bulkhead queue in the deadline of a mutation', async () => {
    const { backends, cloud, clock } = setup({
      dns: {
        bulkhead: { maxConcurrent: 1, maxQueued: 1, queueTimeoutMs: 60_000 },
        operations: { ping: { timeoutMs: 60_000 } },
      },
    });
    cloud.inject('dns.ping', { kind: 'hang' });
    void backends.dns.ping().catch(() => {});
    const create = backends.dns
      .createZone({ domain: 'a.test' }, { clientToken: 'z' })
      .catch((e: unknown) => e);
    const elapsed = await settledAt(clock, create);
    // DNS mutations have a 10 s deadline; the call spent all of it in the queue.
    expect(elapsed).toBe(10_000);
    const error = await create;
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).policy).toBe('dns.createZone');
    expect(backends.health().dns.bulkhead.queued).toBe(0);
    expect(cloud.auditOf('z')).toHaveLength(0);
  });

  it('releases 100 log streams opened and never read: idle bound, or the caller going away', async () => {
    setMaxListeners(0);
    const { backends, clock } = setup();
    const instance = await backends.compute.createInstance(spec, { clientToken: 'c' });
    const server = new AbortController();
    for (let i = 0; i < 100; i++) await backends.compute.streamLogs(instance.id, { signal: server.signal });
    expect(getEventListeners(server.signal, 'abort')).toHaveLength(100);
    clock.advance(60_000);
    expect(getEventListeners(server.signal, 'abort')).toHaveLength(0);

    const client = new AbortController();
    const streams = [];
    for (let i = 0; i < 100; i++)
      streams.push(await backends.compute.streamLogs(instance.id, { follow: true, signal: client.signal }));
    client.abort(new Error('client disconnected'));
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    const late = await streams[0]!
      [Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect((late as Error).message).toBe('client disconnected');
    expect(isStreamIdleError(late)).toBe(false);
  });
});
