import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BULKHEADS } from '../backends/index.js';
import { defaultBackoff } from '../ha/leader/backoff.js';
import { DEFAULT_VISIBILITY_TIMEOUT_MS } from '../ha/queue/port.js';
import { WORKER_DEFAULTS } from '../ha/worker/settings.js';
import { loadConfig } from './load.js';
import { optionsAt } from './options-at.js';
import { settingsMarkdown, settingsTable } from './table.js';

describe('optionsAt', () => {
  it('hands each component the settings whose rows point at it, leaving unset ones to the kernel', () => {
    const config = loadConfig({
      args: ['--worker-concurrency', '4', '--job-heartbeat-ms', '200', '--bulkhead-dns', '3'],
      env: { BREAKER_OPEN_MS: '1500', SWEEPER_GRACE_MS: '2000' },
    });
    expect(optionsAt(config, 'worker')).toEqual({
      concurrency: 4,
      heartbeatMs: 200,
      reclaimMs: WORKER_DEFAULTS.reclaimMs,
      drainMs: WORKER_DEFAULTS.drainMs,
      abortGraceMs: WORKER_DEFAULTS.abortGraceMs,
      maxDeliveries: WORKER_DEFAULTS.maxDeliveries,
    });
    expect(optionsAt(config, 'sweeper')).toEqual({ graceMs: 2000 });
    expect(optionsAt(config, 'queue')).toEqual({ visibilityTimeoutMs: DEFAULT_VISIBILITY_TIMEOUT_MS });
    expect(optionsAt(config, 'backends')).toEqual({
      defaults: { breaker: { openMs: 1500 } },
      compute: { bulkhead: { maxConcurrent: DEFAULT_BULKHEADS.compute } },
      network: { bulkhead: { maxConcurrent: DEFAULT_BULKHEADS.network } },
      storage: { bulkhead: { maxConcurrent: DEFAULT_BULKHEADS.storage } },
      dns: { bulkhead: { maxConcurrent: 3 } },
      loadBalancer: { bulkhead: { maxConcurrent: DEFAULT_BULKHEADS.loadBalancer } },
      webhook: { bulkhead: { maxConcurrent: DEFAULT_BULKHEADS.webhook } },
    });
    expect(optionsAt(config, 'elector')).toEqual({
      heartbeatIntervalMs: 500,
      renewDeadlineMs: 2000,
      idleSessionTimeoutMs: 3000,
      fencedStatementTimeoutMs: 1500,
      fencedIdleTimeoutMs: 1000,
      fencedDeadlineMs: 2500,
    });
    expect(optionsAt(config, 'guard')).toEqual({
      singletonStopGraceMs: 5000,
      backoff: { maxMs: defaultBackoff.maxMs },
    });
  });
});

describe('the settings table', () => {
  it('names every flag, variable and file key once', () => {
    const table = settingsTable();
    for (const column of ['name', 'flag', 'env'] as const) {
      const values = table.map((l) => l[column]);
      expect(new Set(values).size).toBe(values.length);
    }
  });

  it('is the one docs/operations.md carries', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    expect(doc).toContain(settingsMarkdown());
  });
});
