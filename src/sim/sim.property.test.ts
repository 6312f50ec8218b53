import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { summarizeAudit } from './audit/summary.js';
import { createSimBackends } from './index.js';

describe('simulated cloud properties', () => {
  it('never holds one address twice, whatever the order of allocations and releases', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('allocate'), fc.nat(40)), { maxLength: 120 }),
        async (steps) => {
          const { network } = createSimBackends();
          const net = await network.createNetwork({ name: 'n', cidr: '10.0.0.0/27' }, { clientToken: 'n' });
          const held: string[] = [];
          let token = 0;
          for (const step of steps) {
            if (step === 'allocate') {
              const got = await network
                .allocateIp(net.id, { clientToken: `t${token++}` })
                .catch(() => undefined);
              if (got === undefined) {
                // Refused only when the 29 usable addresses are all held.
                expect(held).toHaveLength(29);
                continue;
              }
              expect(held).not.toContain(got.address);
              held.push(got.address);
            } else if (held.length > 0) {
              const [address] = held.splice(step % held.length, 1);
              await network.releaseIp(
                { networkId: net.id, address: address! },
                { clientToken: `t${token++}` },
              );
            }
          }
          expect(new Set(network.allocations(net.id))).toEqual(new Set(held));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps the audit clean under any mix of repeated client tokens and stale fencing tokens', async () => {
    const call = fc.record({ token: fc.nat(5), fence: fc.nat(5), op: fc.constantFrom('stop', 'start') });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 60 }), async (calls) => {
        const { compute, cloud } = createSimBackends();
        const { id } = await compute.createInstance(
          { name: 'w', image: 'u', size: 'small' },
          { clientToken: 'c' },
        );
        for (const { token, fence, op } of calls) {
          const options = { clientToken: `${op}-${token}`, fencingToken: fence };
          await (op === 'stop'
            ? compute.stopInstance(id, options)
            : compute.startInstance(id, options)
          ).catch(() => {});
        }
        const summary = summarizeAudit(cloud.audit);
        expect(summary).toMatchObject({ ok: true, duplicates: [], staleAcceptances: [] });
      }),
      { numRuns: 200 },
    );
  });
});
