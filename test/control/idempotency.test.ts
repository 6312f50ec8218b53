// Idempotency-Key on the mutating routes, on PGlite and on PostgreSQL: the first answer is
// replayed byte for byte, a different request under the key is refused, concurrent retries
// make one resource, and a request that died mid-way leaves nothing behind its key.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

describe.each(drivers)('Idempotency-Key on %s', (driver) => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness(driver);
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (key: string, payload: object, tenant = 'acme') =>
    h.app.inject({
      method: 'POST',
      url: '/v1/networks',
      headers: { [TENANT_HEADER]: tenant, 'idempotency-key': key },
      payload,
    });
  const count = async (name: string) =>
    (
      await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM stratus_resources WHERE name = $1', [
        name,
      ])
    ).rows[0]!.n;

  it('replays the first answer, status and bytes, and writes nothing more', async () => {
    const first = await post('key-1', { name: 'idem-1', spec: { cidr: '10.0.0.0/24' } });
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const outbox = async () => (await h.db.query('SELECT job_key FROM stratus_outbox')).rowCount;
    const jobs = await outbox();
    const again = await post('key-1', { spec: { cidr: '10.0.0.0/24' }, name: 'idem-1' });
    expect(again.statusCode).toBe(202);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers.location).toBe(first.headers.location);
    expect(await count('idem-1')).toBe(1);
    expect(await outbox()).toBe(jobs);
  });

  it('refuses the same key for another request with 422, and keys are per tenant', async () => {
    await post('key-2', { name: 'idem-2', spec: { cidr: '10.2.0.0/24' } });
    const other = await post('key-2', { name: 'idem-2b', spec: { cidr: '10.3.0.0/24' } });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await count('idem-2b')).toBe(0);
    const elsewhere = await post('key-2', { name: 'idem-2b', spec: { cidr: '10.3.0.0/24' } }, 'other');
    expect(elsewhere.statusCode).toBe(202);
    const del = await h.app.inject({
      method: 'DELETE',
      url: `/v1/networks/${elsewhere.json().resource.id}`,
      headers: { [TENANT_HEADER]: 'other', 'idempotency-key': 'key-2' },
    });
    expect(del.statusCode).toBe(422);
  });

  it('50 parallel identical POSTs with one key: one resource and 50 identical answers', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post('key-burst', { name: 'burst', spec: { cidr: '10.5.0.0/24' } })),
    );
    expect(new Set(answers.map((a) => `${a.statusCode} ${a.body}`)).size).toBe(1);
    expect(answers[0]!.statusCode).toBe(202);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    expect(await count('burst')).toBe(1);
  });

  it('refuses a key that is empty, too long or not visible ASCII', async () => {
    for (const key of ['x'.repeat(256), 'with space', 'é']) {
      const res = await post(key, { name: 'bad-key', spec: { cidr: '10.1.0.0/24' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([{ path: '/headers/idempotency-key', message: expect.any(String) }]);
    }
    expect(
      (await post('k'.repeat(255), { name: 'long-key', spec: { cidr: '10.6.0.0/24' } })).statusCode,
    ).toBe(202);
  });

  it.runIf(driver === 'pg')(
    'answers 409 while the first request is in flight; after it died, a retry runs afresh',
    async () => {
      // The first request's transaction: it has claimed the key and not committed, as a replica
      // does mid-request; it then dies (rolls back), as a SIGKILLed replica's transaction does.
      let claimed!: () => void;
      let die!: () => void;
      const claimedKey = new Promise<void>((resolve) => {
        claimed = resolve;
      });
      const dies = new Promise<void>((resolve) => {
        die = resolve;
      });
      const first = h.db
        .transaction(async (tx) => {
          await tx.query(
            `INSERT INTO stratus_idempotency (tenant, key, fingerprint, expires_at) VALUES ('acme', 'key-held', 'x', now() + interval '1 hour')`,
          );
          claimed();
          await dies;
          throw new Error('the replica died');
        })
        .catch((err: Error) => err.message);
      await claimedKey;
      const during = await post('key-held', { name: 'held', spec: { cidr: '10.4.0.0/24' } });
      expect(during.statusCode).toBe(409);
      expect(during.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
      die();
      expect(await first).toBe('the replica died');
      const retry = await post('key-held', { name: 'held', spec: { cidr: '10.4.0.0/24' } });
      expect(retry.statusCode).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(await count('held')).toBe(1);
    },
  );
});
