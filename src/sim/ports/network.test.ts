import { describe, expect, it } from 'vitest';
import { isConflictError, isInvalidInputError } from '../../core/errors/backend-errors.js';
import { createSimBackends } from '../index.js';
import { exportState, importState } from '../state.js';

describe('simulated network addresses', () => {
  it('never hands out an address twice while it is allocated, across the whole range', async () => {
    const { network } = createSimBackends();
    const net = await network.createNetwork({ name: 'n', cidr: '10.1.0.0/22' }, { clientToken: 'n' });
    const seen = new Set<string>();
    // A /22 has 1024 addresses; network, gateway and broadcast are reserved.
    for (let i = 0; i < 1_021; i++) {
      const { address } = await network.allocateIp(net.id, { clientToken: `a${i}` });
      expect(seen.has(address)).toBe(false);
      seen.add(address);
    }
    expect(seen.has('10.1.0.0') || seen.has('10.1.0.1') || seen.has('10.1.3.255')).toBe(false);
    expect(isConflictError(await network.allocateIp(net.id, { clientToken: 'full' }).catch((e) => e))).toBe(
      true,
    );
    await network.releaseIp({ networkId: net.id, address: '10.1.2.7' }, { clientToken: 'r' });
    expect(await network.allocateIp(net.id, { clientToken: 'again' })).toEqual({
      networkId: net.id,
      address: '10.1.2.7',
    });
  });

  it('allocates inside a named subnet, and refuses subnets outside the range or overlapping', async () => {
    const { network } = createSimBackends();
    const subnets = [
      { name: 'web', cidr: '10.4.1.0/29' },
      { name: 'db', cidr: '10.4.2.0/29' },
    ];
    const net = await network.createNetwork(
      { name: 'n', cidr: '10.4.0.0/16', subnets },
      { clientToken: 'n' },
    );
    expect(await network.allocateIp(net.id, { clientToken: 'a' })).toEqual({
      networkId: net.id,
      address: '10.4.1.2',
      subnet: 'web',
    });
    const db = [];
    for (let i = 0; i < 5; i++)
      db.push((await network.allocateIp(net.id, { clientToken: `d${i}`, subnet: 'db' })).address);
    expect(db).toEqual(['10.4.2.2', '10.4.2.3', '10.4.2.4', '10.4.2.5', '10.4.2.6']);
    expect(
      isConflictError(await network.allocateIp(net.id, { clientToken: 'd5', subnet: 'db' }).catch((e) => e)),
    ).toBe(true);
    const missing = await network.allocateIp(net.id, { clientToken: 'x', subnet: 'cache' }).catch((e) => e);
    expect(missing).toMatchObject({ code: 'BACKEND_NOT_FOUND', resource: `network/${net.id}/subnet/cache` });
    const outside = await network
      .createNetwork(
        { name: 'o', cidr: '10.5.0.0/24', subnets: [{ name: 'x', cidr: '10.6.0.0/28' }] },
        { clientToken: 'o' },
      )
      .catch((e) => e);
    expect(isInvalidInputError(outside) && outside.message).toBe(
      'subnet x (10.6.0.0/28) is not inside 10.5.0.0/24',
    );
    const overlapping = await network
      .createNetwork(
        {
          name: 'v',
          cidr: '10.7.0.0/24',
          subnets: [
            { name: 'a', cidr: '10.7.0.0/25' },
            { name: 'b', cidr: '10.7.0.64/26' },
          ],
        },
        { clientToken: 'v' },
      )
      .catch((e) => e);
    expect(isInvalidInputError(overlapping) && overlapping.message).toBe('subnet b overlaps subnet a');
  });

  it('refuses a range that is not a.b.c.d/16 to /29', async () => {
    const { network } = createSimBackends();
    for (const cidr of ['10.0.0.0', '10.0.0.300/24', '10.0.0.0/8', '10.0.0.0/31']) {
      const error = await network.createNetwork({ name: cidr, cidr }, { clientToken: cidr }).catch((e) => e);
      expect(isInvalidInputError(error)).toBe(true);
    }
  });
});

describe('simulated network attachments', () => {
  it('replays an attach or detach with the network as its first call left it, across a restart', async () => {
    const sim = createSimBackends();
    const { network } = sim;
    const net = await network.createNetwork({ name: 'n', cidr: '10.1.0.0/22' }, { clientToken: 'n' });
    const attach = (id: string) =>
      network.attach({ networkId: net.id, instanceId: id }, { clientToken: `a-${id}` });
    const detach = (id: string) =>
      network.detach({ networkId: net.id, instanceId: id }, { clientToken: `d-${id}` });
    const firstA = await attach('i-a');
    await attach('i-b');
    const firstDetach = await detach('i-a');
    await attach('i-a2');
    await attach('i-a2');
    expect(firstA.attachments).toEqual(['i-a']);
    expect(firstDetach.attachments).toEqual(['i-b']);
    expect(await attach('i-a')).toEqual(firstA);
    expect(await detach('i-a')).toEqual(firstDetach);
    expect((await network.getNetwork(net.id)).attachments).toEqual(['i-b', 'i-a2']);

    const again = createSimBackends();
    importState(again, JSON.parse(JSON.stringify(exportState(sim))));
    expect(
      await again.network.attach({ networkId: net.id, instanceId: 'i-a' }, { clientToken: 'a-i-a' }),
    ).toEqual(firstA);
    // A state file from before histories were kept: its results hold the network itself.
    const { histories: _, ...oldNetwork } = exportState(sim).network;
    const old = createSimBackends();
    importState(old, { ...JSON.parse(JSON.stringify(exportState(sim))), network: oldNetwork });
    old.cloud.importState({
      ...old.cloud.exportState(),
      results: [
        [
          `network.attach:a-i-a`,
          {
            params: JSON.stringify({ networkId: net.id, instanceId: 'i-a' }),
            result: JSON.stringify(firstA),
          },
        ],
      ],
    });
    expect(
      await old.network.attach({ networkId: net.id, instanceId: 'i-a' }, { clientToken: 'a-i-a' }),
    ).toEqual(firstA);
    expect(
      (await old.network.detach({ networkId: net.id, instanceId: 'i-b' }, { clientToken: 'new' }))
        .attachments,
    ).toEqual(['i-a2']);
  });

  it('keeps what replays need small, however many instances the network holds', async () => {
    const sim = createSimBackends();
    const net = await sim.network.createNetwork({ name: 'n', cidr: '10.1.0.0/16' }, { clientToken: 'n' });
    for (let i = 0; i < 2_000; i++) {
      await sim.network.attach({ networkId: net.id, instanceId: `i-${i}` }, { clientToken: `a${i}` });
    }
    const kept = sim.cloud.exportState().results.filter(([key]) => key.startsWith('network.attach:'));
    expect(kept).toHaveLength(2_000);
    // The network's own JSON with 2,000 attachments is ~16 kB; each kept result stays tiny.
    expect(Math.max(...kept.map(([, { result }]) => result!.length))).toBeLessThan(100);
  });
});
