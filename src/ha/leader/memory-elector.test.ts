import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaderKeyRegistry } from './keys.js';
import { MemoryElector, MemoryLeadership } from './memory-elector.js';
import type { LeaderTerm } from './port.js';

const key = new LeaderKeyRegistry().register('reconcile', 100);

/** Lets every promise that can settle now settle (one macrotask turn; not a sleep). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('MemoryElector', () => {
  it('never has two live terms of a key, epochs only grow, and a free key with candidates gets a leader (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom('campaign', 'revoke', 'release', 'abort'),
            node: fc.integer({ min: 0, max: 2 }),
          }),
          { maxLength: 40 },
        ),
        async (ops) => {
          const space = new MemoryLeadership();
          const electors = [0, 1, 2].map((i) => new MemoryElector(`n${i}`, space));
          const campaigns = new Map<number, AbortController>();
          const terms: LeaderTerm[] = [];
          for (const { op, node } of ops) {
            if (op === 'campaign' && !campaigns.has(node)) {
              const abort = new AbortController();
              campaigns.set(node, abort);
              electors[node]!.campaign(key, abort.signal).then(
                (term) => {
                  terms.push(term);
                  campaigns.delete(node);
                },
                () => campaigns.delete(node),
              );
            } else if (op === 'revoke') {
              space.revoke(key.id);
            } else if (op === 'release') {
              const held = space.holder(key.id);
              if (held?.nodeId === `n${node}`) await electors[node]!.release(held, 'test');
            } else if (op === 'abort') {
              campaigns.get(node)?.abort(new Error('stop'));
            }
            await settle();

            const live = terms.filter((t) => !t.signal.aborted);
            expect(live.length).toBeLessThanOrEqual(1);
            expect(space.holder(key.id)).toBe(live[0]);
            const epochs = terms.map((t) => t.epoch);
            expect(epochs).toEqual(epochs.map((_, i) => i + 1));
            if (campaigns.size > 0) expect(space.holder(key.id)).toBeDefined();
          }
          await Promise.all(electors.map((e) => e.close()));
          await settle();
          expect(space.holder(key.id)).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});
