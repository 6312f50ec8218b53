import { describe, expect, it } from 'vitest';
import { isConflictError, isInvalidInputError } from '../../core/errors/backend-errors.js';
import { createSimBackends } from '../index.js';

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

  it('refuses a range that is not a.b.c.d/16 to /29', async () => {
    const { network } = createSimBackends();
    for (const cidr of ['10.0.0.0', '10.0.0.300/24', '10.0.0.0/8', '10.0.0.0/31']) {
      const error = await network.createNetwork({ name: cidr, cidr }, { clientToken: cidr }).catch((e) => e);
      expect(isInvalidInputError(error)).toBe(true);
    }
  });
});
