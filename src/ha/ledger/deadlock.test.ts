import { describe, expect, it } from 'vitest';
import { migratedDatabase } from '../../../test/worker/databases.js';
import type { AcquireRequest } from './port.js';
import { createPostgresLedger } from './postgres-ledger.js';

// Real PostgreSQL only: PGlite runs one statement at a time, so it cannot deadlock.
describe('ledger batches on PostgreSQL', () => {
  const t = migratedDatabase('pg');

  it('never deadlock when two batches take the same keys in opposite orders', async () => {
    const ledger = createPostgresLedger(t.db);
    // Before rows were locked in key order, 4 rounds in 10 failed with "deadlock detected".
    for (let round = 0; round < 10; round++) {
      const keys = Array.from({ length: 400 }, (_, i) => `r${round}-${String(i).padStart(3, '0')}`);
      // Half the keys exist with an expired lease (takeover path: ON CONFLICT DO UPDATE), half
      // are new (speculative insertion waits on the other's uncommitted entry).
      const existing = keys.filter((_, i) => i % 2 === 0);
      await ledger.tryAcquireBatch(
        existing.map((jobKey) => ({ jobKey, leaseMs: 60_000 })),
        'earlier',
      );
      await t.db.query(
        `UPDATE stratus_ledger SET lease_expires_at = now() - interval '1 second' WHERE job_key = ANY($1)`,
        [existing],
      );
      const forward: AcquireRequest[] = keys.map((jobKey) => ({ jobKey, leaseMs: 60_000 }));
      const backward = [...forward].reverse();
      const [a, b] = await Promise.all([
        ledger.tryAcquireBatch(forward, 'a'),
        ledger.tryAcquireBatch(backward, 'b'),
      ]);
      const winners = new Map<string, number>();
      for (const r of [...a, ...b]) {
        if (r.acquired) winners.set(r.lease.jobKey, (winners.get(r.lease.jobKey) ?? 0) + 1);
      }
      expect([...winners.values()].every((n) => n === 1)).toBe(true);
      expect(winners.size).toBe(keys.length);
    }
  }, 60_000);

  it('never deadlock when a heartbeat and another batch cover the same live leases', async () => {
    const ledger = createPostgresLedger(t.db);
    for (let round = 0; round < 10; round++) {
      const keys = Array.from({ length: 400 }, (_, i) => `h${round}-${String(i).padStart(3, '0')}`);
      const held = await ledger.tryAcquireBatch(
        keys.map((jobKey) => ({ jobKey, leaseMs: 60_000 })),
        'holder',
      );
      const leases = held.flatMap((r) => (r.acquired ? [{ ...r.lease, leaseMs: 60_000 }] : []));
      // The holder renews in reverse order while a second worker (duplicate copies) asks for
      // every key: it is refused each one, but its upsert locks each row to decide.
      const [lost, refused] = await Promise.all([
        ledger.heartbeat([...leases].reverse()),
        ledger.tryAcquireBatch(
          keys.map((jobKey) => ({ jobKey, leaseMs: 60_000 })),
          'other',
        ),
      ]);
      expect(lost).toEqual([]);
      expect(refused.every((r) => !r.acquired && r.refusal.kind === 'running')).toBe(true);
    }
  }, 60_000);
});
