import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerQueueGauges } from './metrics.js';

describe('queue gauges', () => {
  it('name the count of undelivered messages for what it is', async () => {
    const registry = new Registry();
    registerQueueGauges(registry, {
      stats: async () => ({
        length: 7,
        pending: 4,
        lag: 3,
        oldestPendingMs: 1_500,
        delayed: 2,
        deadLetters: 1,
      }),
    });
    const text = await registry.metrics();
    expect(text).toMatch(/^stratus_queue_undelivered_messages 3$/m);
    expect(text).toMatch(/^stratus_queue_oldest_pending_seconds 1.5$/m);
    // A count named like a time misled dashboards; the old name is gone.
    expect(text).not.toMatch(/stratus_queue_lag/);
  });
});
