import { describe, expect, it } from 'vitest';
import { resolveHandlers } from './registrations.js';

describe('resolveHandlers', () => {
  const handler = async () => {};

  it('refuses a lease shorter than two heartbeats, naming the kind: such a job would never start', () => {
    expect(() => resolveHandlers({ quick: { handler, leaseMs: 900 } }, 10, 500)).toThrow(
      'handler quick: leaseMs 900 must be at least two heartbeats (1000 ms)',
    );
    expect(resolveHandlers({ quick: { handler, leaseMs: 1_000 } }, 10, 500).get('quick')?.leaseMs).toBe(
      1_000,
    );
  });
});
