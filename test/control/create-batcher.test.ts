// The group commit's batcher with the test deciding when each batch ends: a lone item leaves at
// once, items wait only behind batches in flight, batches keep their bounds, a failed batch
// fails its own items only, and an outcome count that does not match fails the batch.

import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/control/create-batcher.js';

/** A `run` whose batches end when the test says, recording what each one carried. */
function controlledRun() {
  const batches: { items: readonly number[]; end: (outcomes?: readonly string[] | Error) => void }[] = [];
  const run = (items: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      batches.push({
        items,
        end: (outcomes) =>
          outcomes instanceof Error ? reject(outcomes) : resolve(outcomes ?? items.map((i) => `done ${i}`)),
      });
    });
  return { run, batches };
}

/** Lets the promise callbacks queued so far run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('create batcher', () => {
  it('sends a lone item at once and gathers the rest behind the batches in flight', async () => {
    const { run, batches } = controlledRun();
    const batcher = createBatcher({ run, maxBatch: 3, maxInFlight: 2 });
    const first = batcher.submit(1);
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    const rest = [2, 3, 4, 5, 6, 7].map((i) => batcher.submit(i));
    // The second place in flight takes item 2; 3..7 wait for a place.
    expect(batches.map((b) => b.items)).toEqual([[1], [2]]);
    batches[0]!.end();
    expect(await first).toBe('done 1');
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1], [2], [3, 4, 5]]);
    batches[1]!.end();
    batches[2]!.end();
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
    batches[3]!.end();
    expect(await Promise.all(rest)).toEqual(['done 2', 'done 3', 'done 4', 'done 5', 'done 6', 'done 7']);
  });

  it('a batch that fails fails its own items only; a wrong outcome count is a failure', async () => {
    const { run, batches } = controlledRun();
    const batcher = createBatcher({ run, maxBatch: 2, maxInFlight: 1 });
    const a = batcher.submit(1).catch((err: Error) => err.message);
    const b = [2, 3].map((i) => batcher.submit(i).catch((err: Error) => err.message));
    batches[0]!.end(new Error('connection lost'));
    expect(await a).toBe('connection lost');
    await settle();
    // The known-bad case: one outcome for two items must not answer either of them.
    batches[1]!.end(['only one']);
    expect(await Promise.all(b)).toEqual(['a batch of 2 got 1 outcomes', 'a batch of 2 got 1 outcomes']);
    const c = batcher.submit(4);
    batches[2]!.end();
    expect(await c).toBe('done 4');
  });

  it('refuses bounds below one', () => {
    expect(() => createBatcher({ run: async () => [], maxBatch: 0, maxInFlight: 1 })).toThrow(RangeError);
  });
});
