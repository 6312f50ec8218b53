import { describe, expect, it } from 'vitest';
import { isCapacityError, isConflictError, isInvalidInputError } from '../../core/errors/backend-errors.js';
import { ManualClock } from '../../ha/resilience/clock.js';
import { DEFAULT_PROFILE, FAST_PROFILE, type Profile, parseProfile } from '../behaviour/profile.js';
import { createSimBackends } from '../index.js';

const spec = { name: 'web', image: 'ubuntu', size: 'small' };

/** A cloud on a hand-driven clock; `random` fixed so delays are known. */
function cloudAt(profile: Profile, random = () => 0.5) {
  const clock = new ManualClock(1_700_000_000_000);
  const sim = createSimBackends({ scheduler: clock, wallClock: () => clock.now(), random, profile });
  return { clock, ...sim };
}

describe('instance lifecycle stages', () => {
  it('walks pending → provisioning → booting → running on the injected clock, by the profile', async () => {
    const profile = parseProfile({
      name: 'steps',
      stages: [
        {
          name: 'queue',
          kind: 'instance',
          from: 'pending',
          to: 'provisioning',
          delay: { kind: 'fixed', ms: 1_000 },
        },
        {
          name: 'provision',
          kind: 'instance',
          from: 'provisioning',
          to: 'booting',
          delay: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
        },
        { name: 'boot', kind: 'instance', from: 'booting', to: 'running', delay: { kind: 'fixed', ms: 500 } },
      ],
    });
    const { clock, compute } = cloudAt(profile);
    const created = await compute.createInstance(spec, { clientToken: 'c' });
    expect(created.state).toBe('pending');
    const states: string[] = [];
    // uniform(1000, 3000) at random 0.5 is 2000: the stages end at 1000, 3000 and 3500 ms.
    for (const ms of [999, 1, 1_999, 1, 499, 1]) {
      clock.advance(ms);
      states.push((await compute.getInstance(created.id)).state);
    }
    expect(states).toEqual(['pending', 'provisioning', 'provisioning', 'booting', 'booting', 'running']);
  });

  it('catches up on several stages at once when nobody looked in between', async () => {
    const { clock, compute } = cloudAt(DEFAULT_PROFILE, () => 0.999);
    const { id } = await compute.createInstance(spec, { clientToken: 'c' });
    // At 0.999 the stages last 1499.5 + 2998 + 3496.5 = 7994 ms.
    clock.advance(7_993);
    expect((await compute.getInstance(id)).state).toBe('booting');
    clock.advance(1);
    expect((await compute.getInstance(id)).state).toBe('running');
  });

  it('boots in 2 to 8 s under the default profile', async () => {
    for (const r of [0, 0.999_999]) {
      const { clock, compute } = cloudAt(DEFAULT_PROFILE, () => r);
      const { id } = await compute.createInstance(spec, { clientToken: 'c' });
      let waited = 0;
      while ((await compute.getInstance(id)).state !== 'running') {
        clock.advance(10);
        waited += 10;
      }
      expect(waited).toBeGreaterThanOrEqual(2_000);
      expect(waited).toBeLessThanOrEqual(8_000);
    }
  });

  it('stops through stopping, and a delete goes through terminating until it is gone', async () => {
    const { clock, compute } = cloudAt(DEFAULT_PROFILE);
    const { id } = await compute.createInstance(spec, { clientToken: 'c' });
    clock.advance(10_000);
    expect((await compute.stopInstance(id, { clientToken: 's' })).state).toBe('stopping');
    clock.advance(3_000);
    expect((await compute.getInstance(id)).state).toBe('stopped');
    await compute.deleteInstance(id, { clientToken: 'd' });
    expect((await compute.getInstance(id)).state).toBe('terminating');
    expect(isConflictError(await compute.startInstance(id, { clientToken: 'x' }).catch((e) => e))).toBe(true);
    clock.advance(3_000);
    await expect(compute.getInstance(id)).rejects.toMatchObject({ code: 'BACKEND_NOT_FOUND' });
    expect((await compute.listInstances()).items).toHaveLength(0);
  });

  it('is running as soon as it is created under the fast profile', async () => {
    const { compute } = cloudAt(FAST_PROFILE);
    expect((await compute.createInstance(spec, { clientToken: 'c' })).state).toBe('running');
  });

  it('crashes on purpose: the instance stops, with a line in its log', async () => {
    const { compute } = cloudAt(FAST_PROFILE);
    const { id } = await compute.createInstance(spec, { clientToken: 'c' });
    expect(compute.crash(id).state).toBe('stopped');
    const lines = [];
    for await (const line of await compute.streamLogs(id)) lines.push(line.line);
    expect(lines.at(-1)).toContain('crash');
  });

  it('crashes at the profile rate: with rate r per hour, a draw below 1 - e^-r crashes it', async () => {
    const draws = [0.5];
    const { clock, compute } = cloudAt({ ...FAST_PROFILE, crashesPerHour: 1 }, () => draws.shift() ?? 0.99);
    const { id } = await compute.createInstance(spec, { clientToken: 'c' });
    clock.advance(3_600_000);
    // 1 - e^-1 ≈ 0.632 > 0.5: crashed.
    expect((await compute.getInstance(id)).state).toBe('stopped');
  });

  it('refuses a profile with a bad stage, naming the field', () => {
    expect(() =>
      parseProfile({
        name: 'x',
        stages: [{ name: 'a', kind: 'instance', from: 'pending', to: 'running', delay: { kind: 'fixed' } }],
      }),
    ).toThrow('stages[0].delay.ms must be a number >= 0');
    expect(() => parseProfile({ name: 'x', zones: {} })).toThrow('zones must name at least one zone');
  });
});

describe('capacity, quotas and signals', () => {
  it('tells a used-up tenant quota from a full zone', async () => {
    const profile = { ...FAST_PROFILE, instanceQuotaPerTenant: 2, zones: { 'zone-a': { vcpus: 5 } } };
    const { compute } = cloudAt(profile);
    await compute.createInstance({ ...spec, name: 'a', tenant: 't1' }, { clientToken: 'a' });
    await compute.createInstance({ ...spec, name: 'b', tenant: 't1' }, { clientToken: 'b' });
    const quota = await compute
      .createInstance({ ...spec, name: 'c', tenant: 't1' }, { clientToken: 'c' })
      .catch((e) => e);
    expect(isCapacityError(quota) && quota.reason).toBe('quota-exceeded');
    const full = await compute
      .createInstance({ ...spec, name: 'd', size: 'large', tenant: 't2' }, { clientToken: 'd' })
      .catch((e) => e);
    expect(isCapacityError(full) && full.reason).toBe('no-capacity');
    expect(full.message).toBe('zone zone-a has 3 of 4 vCPUs free');
    // A delete gives the room back once the instance is gone.
    const [first] = (await compute.listInstances({ labels: {} })).items;
    await compute.deleteInstance(first!.id, { clientToken: 'del' });
    await compute.createInstance({ ...spec, name: 'c', tenant: 't1' }, { clientToken: 'c2' });
  });

  it('gives the quota of a terminated instance back though nobody looked at it since its delete', async () => {
    const profile = { ...DEFAULT_PROFILE, instanceQuotaPerTenant: 1 };
    const { clock, compute } = cloudAt(profile);
    const { id } = await compute.createInstance({ ...spec, tenant: 't' }, { clientToken: 'a' });
    await compute.deleteInstance(id, { clientToken: 'd' });
    const early = await compute
      .createInstance({ ...spec, name: 'b', tenant: 't' }, { clientToken: 'b' })
      .catch((e) => e);
    expect(isCapacityError(early) && early.reason).toBe('quota-exceeded');
    // Terminating lasts 1 to 3 s under the default profile; nothing reads the instance meanwhile.
    clock.advance(3_000);
    await expect(
      compute.createInstance({ ...spec, name: 'b', tenant: 't' }, { clientToken: 'b2' }),
    ).resolves.toMatchObject({ tenant: 't' });
    await expect(compute.getInstance(id)).rejects.toMatchObject({ code: 'BACKEND_NOT_FOUND' });
  });

  it('resizes within the zone: the new size must fit, the old one gives its room back', async () => {
    const profile = { ...FAST_PROFILE, zones: { 'zone-a': { vcpus: 5 } } };
    const { compute } = cloudAt(profile);
    const a = await compute.createInstance({ ...spec, name: 'a' }, { clientToken: 'a' });
    const b = await compute.createInstance({ ...spec, name: 'b' }, { clientToken: 'b' });
    expect((await compute.resizeInstance(a.id, 'large', { clientToken: 'ra' })).size).toBe('large');
    const full = await compute.resizeInstance(b.id, 'large', { clientToken: 'rb' }).catch((e) => e);
    expect(isCapacityError(full) && full.reason).toBe('no-capacity');
    expect(full.message).toBe('zone zone-a has 1 of 4 vCPUs free');
    expect((await compute.getInstance(b.id)).size).toBe('small');
    await compute.resizeInstance(a.id, 'small', { clientToken: 'ra2' });
    expect((await compute.resizeInstance(b.id, 'large', { clientToken: 'rb2' })).size).toBe('large');
    const unknown = await compute.resizeInstance(a.id, 'huge', { clientToken: 'rx' }).catch((e) => e);
    expect(isInvalidInputError(unknown)).toBe(true);
  });

  it('refuses an unknown size or zone as invalid input', async () => {
    const { compute } = cloudAt(FAST_PROFILE);
    const size = await compute
      .createInstance({ ...spec, size: 'huge' }, { clientToken: 'a' })
      .catch((e) => e);
    expect(isInvalidInputError(size) && size.message).toBe(
      'size huge is not one of small, medium, large, xlarge',
    );
    const zone = await compute
      .createInstance({ ...spec, zone: 'moon' }, { clientToken: 'b' })
      .catch((e) => e);
    expect(isInvalidInputError(zone)).toBe(true);
  });

  it('lists by label, so a caller finds what it created', async () => {
    const { compute } = cloudAt(FAST_PROFILE);
    for (let i = 0; i < 5; i++) {
      const labels = { owner: i % 2 === 0 ? 'cp' : 'other' };
      await compute.createInstance({ ...spec, name: `w${i}`, labels }, { clientToken: `c${i}` });
    }
    const first = await compute.listInstances({ labels: { owner: 'cp' }, limit: 2 });
    expect(first.items.map((i) => i.name)).toEqual(['w0', 'w2']);
    const rest = await compute.listInstances({
      labels: { owner: 'cp' },
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(rest).toEqual({ items: [expect.objectContaining({ name: 'w4' })] });
  });

  it('samples CPU and memory of running instances, and replication lag of replicas', async () => {
    const profile = {
      ...FAST_PROFILE,
      load: { ...FAST_PROFILE.load, replicaLag: { kind: 'fixed', ms: 40 } as const },
    };
    const { compute } = cloudAt(profile);
    const replica = await compute.createInstance(
      { ...spec, labels: { role: 'replica' } },
      { clientToken: 'r' },
    );
    const sample = compute.sample(replica.id);
    expect(sample.cpu).toBeGreaterThanOrEqual(0);
    expect(sample).toMatchObject({ memoryBytes: 1024 * 1024 * 1024, replicationLagMs: 40 });
    compute.setLoad(replica.id, { cpu: 0.95, replicationLagMs: 5_000 });
    expect(compute.sample(replica.id)).toMatchObject({ cpu: 0.95, replicationLagMs: 5_000 });
    await compute.stopInstance(replica.id, { clientToken: 's' });
    expect(compute.sample(replica.id)).toMatchObject({ cpu: 0, memoryBytes: 0 });
  });
});
