// Group commit of creates (stratus_create_resources, migration 0016), on PGlite and PostgreSQL:
// concurrent common creates share one statement; each answer is the one a lone create gives
// (what a GET and the operation read back, the bytes a replay sends); an item the batch cannot
// do gets its usual answer and the others go through; a batch whose statement fails as a whole
// falls back per item, never with two resources nor a lost request.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceService, type ResourceService } from '../../src/control/service.js';
import type { Database, QueryResult, Row } from '../../src/ha/db/database.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

/**
 * The database with a count of the statements sent with parameters (creates; the relays'
 * wake-up has none) and a gate: while closed, those statements wait before they are sent, so a
 * test can fill the next batch; `fail` makes them throw, before or after the database ran them.
 */
function instrumented(db: Database) {
  const state = {
    creates: 0,
    /** The create statement (counted from 1) that fails, and whether it ran first. */
    fail: undefined as { readonly at: number; readonly when: 'before' | 'after' } | undefined,
  };
  let open: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const query = async <R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> => {
    if (!params || params.length === 0) return db.query<R>(sql, params);
    const n = ++state.creates;
    await gate;
    const fail = state.fail?.at === n ? state.fail.when : undefined;
    if (fail === 'before') throw new Error('connection terminated unexpectedly');
    const result = await db.query<R>(sql, params);
    if (fail === 'after') throw new Error('connection terminated unexpectedly');
    return result;
  };
  const wrapped: Database = {
    driver: db.driver,
    query,
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    listen: (channel, onNotify, onLost) => db.listen(channel, onNotify, onLost),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    state,
    close() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    open: () => open(),
  };
}

/** A control error's code, or the answer's status. */
const outcomeOf = (p: Promise<{ status: number; replayed: boolean }>) =>
  p.then(
    (a) => (a.replayed ? `${a.status} replayed` : String(a.status)),
    (err: { code?: string }) => err.code ?? String(err),
  );

describe.each(drivers)('group commit of creates on %s', (driver) => {
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

  const vm = (name: string, network = networkId) => ({
    name,
    labels: { zone: 'a', app: 'web' },
    spec: { size: 'small', network, image: 'ubuntu-24.04' },
  });
  const serviceOn = (db: Database): ResourceService =>
    createResourceService({ db, kinds: h.kinds, maxAttempts: 3, idempotencyWaitMs: 300 });
  /** Answers as the reads give them back: what a lone create answers (create-one-trip.test.ts). */
  const asRead = async (body: string) => {
    const { resource, operation } = JSON.parse(body);
    return JSON.stringify({
      resource: await h.service.get('acme', 'instances', resource.id),
      operation: await h.service.getOperation('acme', operation.id),
    });
  };
  const count = async (name: string) =>
    (await h.db.query(`SELECT 1 FROM stratus_resources WHERE tenant = 'acme' AND name = $1`, [name]))
      .rowCount;

  it('parallel creates share one statement; each answer is what a lone create gives', async () => {
    const { db, state } = instrumented(h.db);
    const service = serviceOn(db);
    // The first two leave at once (nothing in flight), the other eight wait for one of them.
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        service.create('acme', 'instances', vm(`par-${i}`), {
          ...(i % 2 ? { idempotency: { key: `par-${i}`, fingerprint: 'f' } } : {}),
        }),
      ),
    );
    expect(state.creates).toBe(3);
    for (const [i, answer] of answers.entries()) {
      expect(answer).toMatchObject({ status: 202, replayed: false });
      expect(answer.body).toBe(await asRead(answer.body));
      expect(answer.resourceVersion).toBe(JSON.parse(answer.body).resource.resourceVersion);
      expect(await count(`par-${i}`)).toBe(1);
    }
    // One commit: the eight of the third statement share their rows' time.
    const times = new Set(answers.slice(2).map((a) => JSON.parse(a.body).resource.createdAt));
    expect(times.size).toBe(1);
    const replay = await service.create('acme', 'instances', vm('par-1'), {
      idempotency: { key: 'par-1', fingerprint: 'f' },
    });
    expect(replay).toMatchObject({ replayed: true, body: answers[1]!.body });
  });

  it('a mixed batch: the name taken, the bad reference, the replay and the key in flight get their usual answers', async () => {
    await h.service.create('acme', 'instances', vm('mix-taken'));
    const done = await h.service.create('acme', 'instances', vm('mix-done'), {
      idempotency: { key: 'mix-done', fingerprint: 'f' },
    });
    // The key in flight: another session's claim, uncommitted (PGlite has one session only).
    let release: () => void = () => {};
    let held: Promise<unknown> = Promise.resolve();
    if (driver === 'pg') {
      let claimed!: () => void;
      const claimedKey = new Promise<void>((resolve) => {
        claimed = resolve;
      });
      const ends = new Promise<void>((resolve) => {
        release = resolve;
      });
      held = h.db
        .transaction(async (tx) => {
          await tx.query(
            `INSERT INTO stratus_idempotency (tenant, key, fingerprint, expires_at) VALUES ('acme', 'mix-held', 'f', now() + interval '1 hour')`,
          );
          claimed();
          await ends;
          throw new Error('rolled back');
        })
        .catch(() => {});
      await claimedKey;
    }
    const { db, state, close, open } = instrumented(h.db);
    const service = serviceOn(db);
    close();
    // Two plugs take both places in flight, so that everything after goes in one statement.
    const plugs = [0, 1].map((i) => service.create('acme', 'instances', vm(`mix-plug-${i}`)));
    const key = (k: string) => ({ idempotency: { key: k, fingerprint: 'f' } });
    const mixed = {
      taken: outcomeOf(service.create('acme', 'instances', vm('mix-taken'), key('mix-taken'))),
      badReference: outcomeOf(service.create('acme', 'instances', vm('mix-bad', 'net_doesnotexist'))),
      replay: outcomeOf(service.create('acme', 'instances', vm('mix-done'), key('mix-done'))),
      ...(driver === 'pg' && {
        inFlight: outcomeOf(service.create('acme', 'instances', vm('mix-held'), key('mix-held'))),
      }),
      good: Promise.all(
        [0, 1, 2].map((i) =>
          outcomeOf(service.create('acme', 'instances', vm(`mix-ok-${i}`), key(`mix-ok-${i}`))),
        ),
      ),
    };
    expect(state.creates).toBe(2);
    open();
    await Promise.all(plugs);
    const outcomes = Object.fromEntries(
      await Promise.all(Object.entries(mixed).map(async ([k, v]) => [k, await v] as const)),
    );
    release();
    await held;
    expect(outcomes).toEqual({
      taken: 'NAME_TAKEN',
      badReference: 'VALIDATION_FAILED',
      replay: '202 replayed',
      ...(driver === 'pg' && { inFlight: 'IDEMPOTENCY_IN_FLIGHT' }),
      good: ['202', '202', '202'],
    });
    // The mixed items went as one statement; the in-flight key was then sent alone once. On a
    // loaded server an item may also find a lock held past the batch's 1 ms and go alone: at
    // most once per item, never the batch again.
    const items = Object.keys(mixed).length + 2;
    expect(state.creates).toBeGreaterThanOrEqual(driver === 'pg' ? 4 : 3);
    expect(state.creates).toBeLessThanOrEqual(3 + items);
    expect((await service.create('acme', 'instances', vm('mix-done'), key('mix-done'))).body).toBe(done.body);
    for (const name of ['mix-taken', 'mix-ok-0', 'mix-ok-1', 'mix-ok-2']) expect(await count(name)).toBe(1);
    for (const name of ['mix-bad', 'mix-held']) expect(await count(name)).toBe(0);
  });

  it('50 identical creates with one key in one batch: one resource, 50 identical answers', async () => {
    const { db, state, close, open } = instrumented(h.db);
    const service = serviceOn(db);
    close();
    const plugs = [0, 1].map((i) => service.create('acme', 'instances', vm(`same-plug-${i}`)));
    const idempotency = { key: 'same', fingerprint: 'f' };
    const answers = Array.from({ length: 50 }, () =>
      service.create('acme', 'instances', vm('same'), { idempotency }),
    );
    open();
    await Promise.all(plugs);
    const done = await Promise.all(answers);
    expect(new Set(done.map((a) => `${a.status} ${a.body}`)).size).toBe(1);
    expect(done.filter((a) => a.replayed)).toHaveLength(49);
    // 50 items exceed a batch (32): two statements after the plugs, and the items of the
    // second that met the first's uncommitted claim (busy) were sent alone.
    expect(state.creates).toBeGreaterThanOrEqual(4);
    expect(await count('same')).toBe(1);
  });

  it.each(['before', 'after'] as const)(
    'a batch statement that fails %s the database ran it: each item answered once, one resource each',
    async (when) => {
      const { db, state, close, open } = instrumented(h.db);
      const service = serviceOn(db);
      close();
      // The plugs are the first two statements, the batch of four the third.
      state.fail = { at: 3, when };
      const plugs = [0, 1].map((i) => service.create('acme', 'instances', vm(`fail-${when}-plug-${i}`)));
      const items = [0, 1, 2, 3].map((i) =>
        service.create('acme', 'instances', vm(`fail-${when}-${i}`), {
          ...(i % 2 ? { idempotency: { key: `fail-${when}-${i}`, fingerprint: 'f' } } : {}),
        }),
      );
      open();
      await Promise.all(plugs);
      const answers = await Promise.all(items);
      for (const [i, answer] of answers.entries()) {
        expect(answer.status).toBe(202);
        // Committed before the connection was lost: a key's replay, or the reads of the resource.
        expect(answer.replayed).toBe(when === 'after' && i % 2 === 1);
        expect(answer.body).toBe(await asRead(answer.body));
        expect(await count(`fail-${when}-${i}`)).toBe(1);
      }
    },
  );
});
