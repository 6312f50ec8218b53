import { describe, expect, it } from 'vitest';
import { isNotFoundError, isUnavailableError } from '../../core/errors/backend-errors.js';
import { ManualClock } from '../../ha/resilience/clock.js';
import { settle } from '../../ha/resilience/test-support.js';
import { createSimBackends } from '../index.js';

function cloudAt(random: () => number = () => 0.5) {
  const clock = new ManualClock(1_000_000);
  return { clock, ...createSimBackends({ scheduler: clock, wallClock: () => clock.now(), random }) };
}
const error = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => e,
  );

describe('fault rules', () => {
  it('fails calls with the given code and probability', async () => {
    const draws = [0.1, 0.5, 0.9];
    const { dns, cloud } = cloudAt(() => draws.shift()!);
    cloud.faults.add({
      backend: 'dns',
      operation: 'listZones',
      effect: { kind: 'error', code: 'BACKEND_UNAVAILABLE', probability: 0.5 },
    });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await error(dns.listZones()));
    expect(isUnavailableError(results[0])).toBe(true);
    expect(results.slice(1)).toEqual(['ok', 'ok']);
    expect(cloud.faults.list()[0]!.hits).toBe(1);
  });

  it('opens an outage window at a time, for a duration', async () => {
    const { clock, storage, cloud } = cloudAt();
    cloud.faults.add({ backend: 'storage', effect: { kind: 'outage' }, afterMs: 1_000, durationMs: 500 });
    const at = async (ms: number) => {
      clock.advance(ms);
      return error(storage.listVolumes());
    };
    expect(await at(999)).toBe('ok');
    expect(isUnavailableError(await at(1))).toBe(true);
    expect(isUnavailableError(await at(499))).toBe(true);
    expect(await at(1)).toBe('ok');
  });

  it('adds latency from a distribution on the cloud timers', async () => {
    const { clock, network, cloud } = cloudAt();
    cloud.faults.add({
      backend: 'network',
      effect: { kind: 'latency', delay: { kind: 'uniform', minMs: 100, maxMs: 300 } },
    });
    let done = false;
    const call = network.listNetworks().then(() => {
      done = true;
    });
    clock.advance(199);
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    await call;
  });

  it('holds a call until the hang is removed, or for its duration', async () => {
    const { clock, compute, cloud } = cloudAt();
    const rule = cloud.faults.add({ backend: 'compute', operation: 'ping', effect: { kind: 'hang' } });
    let released = false;
    const held = compute.ping().then(() => {
      released = true;
    });
    clock.advance(3_600_000);
    await settle();
    expect(released).toBe(false);
    cloud.faults.remove(rule.id);
    await held;
    cloud.faults.add({ backend: 'compute', operation: 'ping', effect: { kind: 'hang', forMs: 50 } });
    const short = compute.ping();
    clock.advance(50);
    await short;
  });

  it('selects by resource and stops after `times` hits', async () => {
    const { compute, cloud } = cloudAt();
    const spec = { name: 'a', image: 'u', size: 'small' };
    const a = await compute.createInstance(spec, { clientToken: 'a' });
    const b = await compute.createInstance({ ...spec, name: 'b' }, { clientToken: 'b' });
    cloud.faults.add({
      backend: 'compute',
      operation: 'getInstance',
      resource: `instance/${a.id}`,
      times: 2,
      effect: { kind: 'error', code: 'BACKEND_NOT_FOUND' },
    });
    expect(isNotFoundError(await error(compute.getInstance(a.id)))).toBe(true);
    expect(await error(compute.getInstance(b.id))).toBe('ok');
    expect(isNotFoundError(await error(compute.getInstance(a.id)))).toBe(true);
    expect(await error(compute.getInstance(a.id))).toBe('ok');
  });

  it('cuts a stream after some items, and slows each item of another', async () => {
    const { clock, compute, cloud } = cloudAt();
    const { id } = await compute.createInstance(
      { name: 'a', image: 'u', size: 'small' },
      { clientToken: 'a' },
    );
    for (let i = 0; i < 4; i++) compute.appendLog(id, `line ${i}`);
    const rule = cloud.faults.add({
      backend: 'compute',
      operation: 'streamLogs',
      effect: { kind: 'cut-stream', afterItems: 2 },
    });
    const lines = [];
    for await (const line of await compute.streamLogs(id)) lines.push(line.line);
    expect(lines).toHaveLength(2);
    cloud.faults.remove(rule.id);
    cloud.faults.add({
      backend: 'compute',
      operation: 'streamLogs',
      effect: { kind: 'slow-stream', delay: { kind: 'fixed', ms: 100 } },
    });
    const it = (await compute.streamLogs(id))[Symbol.asyncIterator]();
    let first: unknown;
    const next = it.next().then((r) => {
      first = r.value;
    });
    await settle();
    expect(first).toBeUndefined();
    clock.advance(100);
    await next;
    expect(first).toMatchObject({ line: `instance ${id} created from u` });
  });

  it('cuts a followed stream right after its last item, without waiting for another', async () => {
    const { compute, cloud } = cloudAt();
    const { id } = await compute.createInstance(
      { name: 'f', image: 'u', size: 'small' },
      { clientToken: 'f' },
    );
    compute.appendLog(id, 'second');
    cloud.faults.add({
      backend: 'compute',
      operation: 'streamLogs',
      effect: { kind: 'cut-stream', afterItems: 2 },
    });
    const lines = [];
    for await (const line of await compute.streamLogs(id, { follow: true })) lines.push(line.line);
    expect(lines).toEqual([`instance ${id} created from u`, 'second']);
    cloud.faults.add({
      backend: 'compute',
      operation: 'streamStats',
      effect: { kind: 'cut-stream', afterItems: 0 },
    });
    const samples = [];
    for await (const sample of await compute.streamStats(id)) samples.push(sample);
    expect(samples).toEqual([]);
  });
});
