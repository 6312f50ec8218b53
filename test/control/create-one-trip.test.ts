// The common create in one round trip (migration 0016), on PGlite and on PostgreSQL: a kind
// without an admission check, a new Idempotency-Key and references that resolve cost one
// statement; its answer is the very bytes a replay sends and what a read gives back; every
// unusual case answers as the path of separate statements does; and a delete of the referenced
// network never leaves a dangling reference.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceService } from '../../src/control/service.js';
import * as store from '../../src/control/store.js';
import type { Database, Queryable } from '../../src/ha/db/database.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

/** The database with a count of what is sent to it: statements outside a transaction, transactions. */
function counting(db: Database) {
  const sent = { statements: 0, transactions: 0 };
  const wrapped: Database = {
    ...db,
    driver: db.driver,
    query: (sql, params) => {
      sent.statements++;
      return db.query(sql, params);
    },
    transaction: (fn) => {
      sent.transactions++;
      return db.transaction(fn);
    },
  };
  return { db: wrapped, sent };
}

describe.each(drivers)('create in one round trip on %s', (driver) => {
  let h: ControlHarness;
  let networkId: string;
  beforeAll(async () => {
    h = await openControlHarness(driver);
    const net = await h.app.inject({
      method: 'POST',
      url: '/v1/networks',
      headers: { [TENANT_HEADER]: 'acme' },
      payload: { name: 'net', spec: { cidr: '10.0.0.0/16' } },
    });
    networkId = net.json().resource.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (payload: object, headers: Record<string, string> = {}, tenant = 'acme') =>
    h.app.inject({
      method: 'POST',
      url: '/v1/instances',
      headers: { [TENANT_HEADER]: tenant, ...headers },
      payload,
    });
  const vm = (name: string, network = networkId) => ({
    name,
    // Keys out of jsonb's order (shorter first): the answer must still read as a GET does.
    labels: { zone: 'a', app: 'web' },
    spec: { size: 'small', network, image: 'ubuntu-24.04' },
  });

  it('takes one statement and no transaction for a new key; a replay reads the key first', async () => {
    const { db, sent } = counting(h.db);
    const service = createResourceService({ db, kinds: h.kinds });
    const idempotency = { key: 'one-trip', fingerprint: 'f' };
    const first = await service.create('acme', 'instances', vm('one-trip'), { idempotency });
    expect(first.status).toBe(202);
    // The create's statement, and the relays' wake-up sent after it (not awaited).
    expect(sent).toEqual({ statements: 2, transactions: 0 });
    const replay = await service.create('acme', 'instances', vm('one-trip'), { idempotency });
    expect(replay).toMatchObject({ replayed: true, body: first.body });
    expect(sent.transactions).toBe(1);
    // The check above sees the path of separate statements when it is taken: a kind with an
    // admission check always takes it.
    await service.create('acme', 'networks', { name: 'admitted', spec: { cidr: '10.9.0.0/16' } });
    expect(sent.transactions).toBe(2);
  });

  it('answers with the bytes a replay sends, which read as GET and the operation do', async () => {
    const first = await post(vm('bytes'), { 'idempotency-key': 'bytes' });
    expect(first.statusCode).toBe(202);
    const body = first.json();
    const resource = await h.service.get('acme', 'instances', body.resource.id);
    const operation = await h.service.getOperation('acme', body.operation.id);
    expect(first.body).toBe(JSON.stringify({ resource, operation }));
    expect(first.headers.etag).toBe(`"${resource.resourceVersion}"`);
    expect(first.headers.location).toBe(`/v1/operations/${operation.id}`);
    expect(body.resource).toMatchObject({ generation: 1, status: { phase: 'Provisioning' } });
    expect(resource.createdAt).toBe(operation.createdAt);
    const stored = await h.db.query<{ answer_status: number; answer_body: string }>(
      `SELECT answer_status, answer_body FROM stratus_idempotency WHERE tenant = 'acme' AND key = 'bytes'`,
    );
    expect(stored.rows).toEqual([{ answer_status: 202, answer_body: first.body }]);
    const again = await post(vm('bytes'), { 'idempotency-key': 'bytes' });
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const job = await h.db.query('SELECT 1 FROM stratus_outbox WHERE job_key = $1', [
      `reconcile/instances/${resource.id}/1`,
    ]);
    expect(job.rowCount).toBe(1);
  });

  it('jsonb order: the order a jsonb column gives back, which the check above relies on', async () => {
    expect(JSON.stringify(store.inJsonbOrder({ zone: 'a', app: 'web', b: [{ yy: 1, x: 2 }] }))).toBe(
      '{"b":[{"x":2,"yy":1}],"app":"web","zone":"a"}',
    );
    // The known-bad case: in the client's order, the bytes differ from a read's.
    const spec = { size: 'small', image: 'x', é: 1, e: 2 };
    const read = await h.db.query<{ spec: unknown }>('SELECT $1::jsonb AS spec', [JSON.stringify(spec)]);
    expect(JSON.stringify(spec)).not.toBe(JSON.stringify(read.rows[0]!.spec));
    expect(JSON.stringify(store.inJsonbOrder(spec))).toBe(JSON.stringify(read.rows[0]!.spec));
  });

  it('without a key, in one statement too', async () => {
    const res = await post(vm('no-key'));
    expect(res.statusCode).toBe(202);
    const id = res.json().resource.id;
    expect(res.body).toBe(
      JSON.stringify({
        resource: await h.service.get('acme', 'instances', id),
        operation: await h.service.getOperation('acme', res.json().operation.id),
      }),
    );
    expect(
      (await h.db.query(`SELECT 1 FROM stratus_idempotency WHERE answer_body LIKE '%' || $1 || '%'`, [id]))
        .rowCount,
    ).toBe(0);
  });

  it('a name taken, a reused key, a missing, foreign or deleting reference: the answers of old, nothing written', async () => {
    await post(vm('taken'));
    const taken = await post(vm('taken'), { 'idempotency-key': 'taken' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'NAME_TAKEN', errors: [{ path: '/name' }] });
    const reused = await post(vm('other-name'), { 'idempotency-key': 'bytes' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const missing = await post(vm('missing', 'net_doesnotexist'), { 'idempotency-key': 'missing' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([
      { path: '/spec/network', message: 'no networks net_doesnotexist in this tenant' },
    ]);
    const foreign = await post(vm('foreign'), { 'idempotency-key': 'foreign' }, 'intruder');
    expect(foreign.json().errors).toEqual([
      { path: '/spec/network', message: `no networks ${networkId} in this tenant` },
    ]);
    const notAnId = await post(vm('not-an-id', 'vol_x'), { 'idempotency-key': 'not-an-id' });
    expect(notAnId.json().errors).toEqual([
      { path: '/spec/network', message: 'must be the id of one of your networks' },
    ]);
    const doomed = await h.app.inject({
      method: 'POST',
      url: '/v1/networks',
      headers: { [TENANT_HEADER]: 'acme' },
      payload: { name: 'doomed', spec: { cidr: '10.8.0.0/16' } },
    });
    const doomedId = doomed.json().resource.id;
    await h.app.inject({
      method: 'DELETE',
      url: `/v1/networks/${doomedId}`,
      headers: { [TENANT_HEADER]: 'acme' },
    });
    const deleting = await post(vm('on-doomed', doomedId), { 'idempotency-key': 'on-doomed' });
    expect(deleting.statusCode).toBe(422);
    expect(deleting.json().errors).toEqual([
      { path: '/spec/network', message: `networks ${doomedId} is being deleted` },
    ]);
    const keys = await h.db.query(
      `SELECT key FROM stratus_idempotency WHERE key IN ('taken', 'missing', 'foreign', 'not-an-id', 'on-doomed')`,
    );
    expect(keys.rows).toEqual([]);
    // A refused create leaves its key free: the corrected request under it goes through.
    expect((await post(vm('missing'), { 'idempotency-key': 'missing' })).statusCode).toBe(202);
  });

  it('50 parallel identical POSTs with one key: one resource and 50 identical answers', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post(vm('burst'), { 'idempotency-key': 'burst' })),
    );
    expect(new Set(answers.map((a) => `${a.statusCode} ${a.body}`)).size).toBe(1);
    expect(answers[0]!.statusCode).toBe(202);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    const rows = await h.db.query(`SELECT 1 FROM stratus_resources WHERE name = 'burst'`);
    expect(rows.rowCount).toBe(1);
  });

  it.runIf(driver === 'pg')(
    'answers 409 while the first request is in flight; after it died, a retry runs afresh',
    async () => {
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
            `INSERT INTO stratus_idempotency (tenant, key, fingerprint, expires_at) VALUES ('acme', 'held', 'x', now() + interval '1 hour')`,
          );
          claimed();
          await dies;
          throw new Error('the replica died');
        })
        .catch((err: Error) => err.message);
      await claimedKey;
      const during = await post(vm('held'), { 'idempotency-key': 'held' });
      expect(during.statusCode).toBe(409);
      expect(during.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
      die();
      expect(await first).toBe('the replica died');
      const retry = await post(vm('held'), { 'idempotency-key': 'held' });
      expect(retry.statusCode).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    },
  );
});

describe('references under concurrent deletes on pg', () => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness('pg');
  });
  afterAll(async () => {
    await h?.close();
  });
  const send = (
    method: 'POST' | 'DELETE',
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    h.app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: 'race', ...headers },
      ...(payload ? { payload } : {}),
    });
  const dangling = async () =>
    (
      await h.db.query(
        `SELECT i.id FROM stratus_resources i JOIN stratus_resources n ON n.id = ANY(i.ref_ids)
         WHERE n.deletion_requested_at IS NOT NULL AND i.deletion_requested_at IS NULL`,
      )
    ).rows;

  it('parallel creates referencing a network while it is deleted: never a dangling reference', async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 20; round++) {
      const net = (
        await send('POST', '/v1/networks', { name: `net-${round}`, spec: { cidr: `10.${round}.0.0/16` } })
      ).json().resource;
      const creates = Array.from({ length: 6 }, (_, i) =>
        send(
          'POST',
          '/v1/instances',
          { name: `vm-${round}-${i}`, spec: { image: 'img', size: 'small', network: net.id } },
          { 'idempotency-key': `race-${round}-${i}` },
        ),
      );
      const [deleted, ...created] = await Promise.all([send('DELETE', `/v1/networks/${net.id}`), ...creates]);
      const accepted = created.filter((c) => c.statusCode === 202).length;
      for (const c of created) {
        expect([202, 422], c.body).toContain(c.statusCode);
        if (c.statusCode === 422)
          expect(c.json().errors).toEqual([
            { path: '/spec/network', message: `networks ${net.id} is being deleted` },
          ]);
      }
      // The delete either saw a committed referrer (409) or went first, and every create saw it.
      if (deleted!.statusCode === 202) expect(accepted, `round ${round}`).toBe(0);
      else {
        expect(deleted!.statusCode, deleted!.body).toBe(409);
        expect(accepted).toBeGreaterThan(0);
      }
      const outcome = `${deleted!.statusCode}/${accepted}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(await dangling()).toEqual([]);
  });

  it('a status write of a referenced network does not wait for a create holding its reference', async () => {
    const net = (await send('POST', '/v1/networks', { name: 'busy', spec: { cidr: '10.200.0.0/16' } })).json()
      .resource;
    // While one transaction holds the reference (as a create does until it commits), another
    // writes the network's status under a short lock_timeout: it must not have to wait.
    const statusWrite = (hold: (tx: Queryable) => Promise<unknown>) =>
      h.db.transaction(async (holder) => {
        await hold(holder);
        return h.db
          .transaction(async (writer) => {
            await writer.query(`SET LOCAL lock_timeout = '200ms'`);
            await writer.query('UPDATE stratus_resources SET status = status WHERE id = $1', [net.id]);
            return 'written';
          })
          .catch((err: { code?: string }) => err.code);
      });
    expect(await statusWrite((tx) => store.lockReference(tx, 'race', net.id))).toBe('written');
    // The known-bad case: under the share lock references took before, the write waits.
    expect(
      await statusWrite((tx) =>
        tx.query('SELECT 1 FROM stratus_resources WHERE id = $1 FOR SHARE', [net.id]),
      ),
    ).toBe('55P03');
  });
});
