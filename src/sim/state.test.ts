import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from './behaviour/profile.js';
import { createSimBackends } from './index.js';
import { exportState, importState, StateFileError } from './state.js';

describe('saved world: fault rules and profile', () => {
  it('restores the rules with their hits and ids, and the profile in force', async () => {
    const first = createSimBackends();
    first.cloud.faults.add({ backend: 'dns', operation: 'listZones', effect: { kind: 'outage' }, times: 2 });
    await expect(first.dns.listZones()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    first.cloud.profile = { ...DEFAULT_PROFILE, name: 'drill' };

    const second = createSimBackends();
    importState(second, JSON.parse(JSON.stringify(exportState(first))));
    expect(second.cloud.profile.name).toBe('drill');
    expect(second.cloud.faults.list()).toEqual(first.cloud.faults.list());
    await expect(second.dns.listZones()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    // Spent after its second hit, here as it would have been there.
    await expect(second.dns.listZones()).resolves.toEqual({ items: [] });
    const next = second.cloud.faults.add({ backend: 'dns', effect: { kind: 'outage' } });
    expect(first.cloud.faults.list().map((r) => r.id)).not.toContain(next.id);
  });

  it('keeps the profile it was built with when the file has none, and refuses a bad one', () => {
    const sim = createSimBackends({ profile: DEFAULT_PROFILE });
    const { profile: _, faults: __, ...old } = exportState(createSimBackends());
    importState(sim, old);
    expect(sim.cloud.profile).toBe(DEFAULT_PROFILE);
    const bad = { ...exportState(sim), profile: { ...DEFAULT_PROFILE, crashesPerHour: -1 } };
    expect(() => importState(sim, bad)).toThrow(StateFileError);
  });
});
