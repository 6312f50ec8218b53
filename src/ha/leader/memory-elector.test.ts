import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Queryable, Row } from '../db/database.js';
import { LeaderKeyRegistry } from './keys.js';
import { MemoryElector, MemoryLeadership } from './memory-elector.js';
import type { LeaderTerm } from './port.js';

const key = new LeaderKeyRegistry().register('reconcile', 100);

/** Lets every promise that can settle now settle (one macrotask turn; not a sleep). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('MemoryElector', () => {
  it('hands out terms carrying the fence bounds it was configured with', async () => {
    const bounds = { fencedStatementTimeoutMs: 700, fencedIdleTimeoutMs: 300, fencedDeadlineMs: 1_200 };
    const elector = new MemoryElector('n1', new MemoryLeadership(), undefined, bounds);
    const term = await elector.campaign(key, new AbortController().signal);
    expect(term.bounds).toEqual(bounds);
    await elector.close();
  });

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

/** A database whose begin-term statement waits until the test lets it answer. */
function slowDatabase() {
  let epoch = 0;
  const pending: Array<() => void> = [];
  const ends: unknown[][] = [];
  const db: Queryable = {
    async query<R extends Row = Row>(text: string, params?: readonly unknown[]) {
      if (text.includes('INSERT INTO stratus_leadership')) {
        await new Promise<void>((resolve) => pending.push(resolve));
        epoch++;
        return { rows: [{ epoch, acquired_at: new Date() }] as unknown as R[], rowCount: 1 };
      }
      ends.push([...(params ?? [])]);
      return { rows: [] as R[], rowCount: 1 };
    },
    async exec() {},
  };
  return { db, ends, answer: () => pending.shift()?.() };
}

describe('MemoryElector beginning a term in the database', () => {
  for (const how of ['abort', 'close'] as const) {
    it(`gives the key up when ${how === 'abort' ? 'the campaign is aborted' : 'the elector is closed'} during begin-term`, async () => {
      const space = new MemoryLeadership();
      const slow = slowDatabase();
      const a = new MemoryElector('a', space, slow.db);
      const abort = new AbortController();
      const campaign = a.campaign(key, abort.signal);
      await settle();
      if (how === 'abort') abort.abort(new Error('stop'));
      const closed = how === 'close' ? a.close() : Promise.resolve();
      slow.answer();
      await expect(campaign).rejects.toThrow(how === 'abort' ? 'stop' : 'elector closed');
      await closed;
      expect(space.holder(key.id)).toBeUndefined();
      expect(slow.ends).toContainEqual([key.id, 1, 'aborted']);

      // A peer's campaign is not left waiting for a key nobody holds.
      const b = new MemoryElector('b', space, slow.db);
      const peer = b.campaign(key, new AbortController().signal);
      await settle();
      slow.answer();
      expect(await peer).toMatchObject({ nodeId: 'b', epoch: 2 });
      await b.close();
    });
  }
});
