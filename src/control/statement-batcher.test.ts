import { describe, expect, it } from 'vitest';
import { StatementBatcher } from './statement-batcher.js';

/** A runner the test ends by hand: each call waits until `finish` is called for it. */
function heldRunner(fail: (n: number) => boolean = () => false) {
  const calls: Array<{ requests: readonly number[]; finish(): void }> = [];
  const run = (requests: readonly number[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        requests,
        finish: () =>
          requests.some(fail)
            ? reject(new Error(`bad ${requests.join(',')}`))
            : resolve(requests.map(String)),
      });
    });
  return { calls, run };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('sends at once while idle, and what queues behind two statements in flight as one', async () => {
    const { calls, run } = heldRunner();
    const batcher = new StatementBatcher(run);
    const results = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await settled();
    expect(calls.map((c) => c.requests)).toEqual([[1], [2]]);
    calls[0]!.finish();
    await settled();
    expect(calls.map((c) => c.requests)).toEqual([[1], [2], [3, 4, 5]]);
    calls[1]!.finish();
    calls[2]!.finish();
    expect(await Promise.all(results)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('runs a failed batch again one by one: only the bad request fails', async () => {
    const { calls, run } = heldRunner((n) => n === 4);
    const batcher = new StatementBatcher(run);
    const results = [1, 2, 3, 4, 5].map((n) => batcher.submit(n).catch((err: Error) => err.message));
    await settled();
    calls[0]!.finish();
    calls[1]!.finish();
    await settled();
    calls[2]!.finish(); // [3, 4, 5] fails as a whole
    await settled();
    expect(calls.slice(3).map((c) => c.requests)).toEqual([[3], [4], [5]]);
    for (const c of calls.slice(3)) c.finish();
    expect(await Promise.all(results)).toEqual(['1', '2', '3', 'bad 4', '5']);
  });
});
