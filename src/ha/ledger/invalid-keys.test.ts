import { describe, expect, it } from 'vitest';
import { type DriverName, drivers } from '../../../test/helpers/db.js';
import { migratedDatabase } from '../../../test/worker/databases.js';
import { isStaleLeaseError } from './errors.js';
import { createPostgresLedger } from './postgres-ledger.js';

describe.each(drivers)('ledger batches with keys PostgreSQL cannot store, on %s', (driver: DriverName) => {
  const t = migratedDatabase(driver);
  const nul = 'bad\u0000key';
  const long = 'k'.repeat(3_000); // past the btree entry limit of 2,704 bytes

  it('refuses the bad keys one by one and serves the rest of the batch', async () => {
    const ledger = createPostgresLedger(t.db);
    const results = await ledger.tryAcquireBatch(
      ['good-1', nul, 'good-2', long].map((jobKey) => ({ jobKey, leaseMs: 60_000 })),
      'w',
    );
    expect(results.map((r) => r.acquired)).toEqual([true, false, true, false]);
    expect(results[1]).toMatchObject({
      refusal: { kind: 'invalid', reason: 'job key contains the control character U+0000 at index 3' },
    });
    expect(results[3]).toMatchObject({
      refusal: { kind: 'invalid', reason: 'job key is 3000 bytes long (at most 1024)' },
    });
    const leases = results.flatMap((r) => (r.acquired ? [r.lease] : []));
    const withBad = [...leases, { jobKey: nul, token: 1 }, { jobKey: long, token: 1 }];
    expect(await ledger.heartbeat(withBad.map((l) => ({ ...l, leaseMs: 60_000 })))).toEqual([nul, long]);
    expect(await ledger.completeBatch(withBad)).toEqual([nul, long]);
    expect((await ledger.get('good-1'))?.state).toBe('completed');
    expect(await ledger.release([{ jobKey: nul, token: 1 }])).toEqual([nul]);
    await expect(ledger.fail(nul, 1, { retryable: false, error: 'e' })).rejects.toSatisfy(isStaleLeaseError);
    expect(await ledger.get(nul)).toBeUndefined();
  });
});
