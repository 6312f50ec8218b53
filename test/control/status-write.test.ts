// The reconciler's one conditional write: status and operation change only while the job's
// lease is live and the resource is still at the job's generation. Each refusal is fed a
// known-bad case: an older lease token, an expired lease, a finished lease, a newer generation.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Accepted } from '../../src/control/service.js';
import * as store from '../../src/control/store.js';
import type { ResourceStatus } from '../../src/core/resources/resource.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, openControlHarness } from './harness.js';

const READY: ResourceStatus = {
  phase: 'Ready',
  conditions: [],
  observedGeneration: 1,
  outputs: { backendId: 'x' },
};

describe.each(drivers)('the conditional status write on %s', (driver) => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await openControlHarness(driver);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A network at generation 1 whose job holds a lease with `token`, in `state`, expiring in `ms`. */
  let ranges = 0;
  const setUp = async (name: string, token: number, state = 'running', ms = 60_000) => {
    const cidr = `10.${ranges++}.0.0/24`;
    const answer = await h.service.create('t', 'networks', { name, spec: { cidr } });
    const { resource, operation } = JSON.parse(answer.body) as Accepted;
    const jobKey = `reconcile/networks/${resource.id}/1`;
    await h.db.query(
      `INSERT INTO stratus_ledger (job_key, state, owner, token, attempt, lease_expires_at)
       VALUES ($1, $2, 'w1', $3, 1, now() + make_interval(secs => $4::double precision / 1000))`,
      [jobKey, state, token, ms],
    );
    return { resource, operation: operation!, jobKey };
  };
  const statusOf = async (id: string) => (await store.loadResource(h.db, id))!.status.phase;
  const opState = async (id: string) => (await h.service.getOperation('t', id)).state;
  /** The state stored in the operation's row (what a write changed), not as the API reads it. */
  const storedState = async (id: string) =>
    (await h.db.query<{ state: string }>('SELECT state FROM stratus_operations WHERE id = $1', [id])).rows[0]!
      .state;

  it('writes under the live lease at the current generation, status and operation together', async () => {
    const { resource, operation, jobKey } = await setUp('live', 100);
    expect(
      await store.writeStatus(h.db, resource.id, 1, { jobKey, token: 100 }, READY, 'succeeded', null),
    ).toBe(true);
    expect(await statusOf(resource.id)).toBe('Ready');
    expect(await opState(operation.id)).toBe('succeeded');
  });

  it.each([
    ['an older lease token', 200, 'running', 60_000, 199, 1],
    ['an expired lease', 300, 'running', -1_000, 300, 1],
    ['a lease already completed', 400, 'completed', 60_000, 400, 1],
    ['a generation the resource has left', 500, 'running', 60_000, 500, 0],
  ])('writes nothing with %s', async (what, token, state, ms, presented, generation) => {
    const { resource, operation, jobKey } = await setUp(`bad-${token}`, token, state, ms);
    const written = await store.writeStatus(
      h.db,
      resource.id,
      generation,
      { jobKey, token: presented },
      READY,
      'succeeded',
      null,
    );
    expect(written, what).toBe(false);
    expect(await statusOf(resource.id)).toBe('Provisioning');
    expect(await storedState(operation.id)).toBe('pending');
    expect(await store.markOperation(h.db, { jobKey, token: presented }, 'running', null)).toBe(
      generation === 0, // the generation does not guard the operation's own state, the lease does
    );
  });

  it('in one batched statement, writes each row under its own lease and generation only', async () => {
    const live = await setUp('batch-live', 700);
    const bad = [
      { ...(await setUp('batch-old-token', 800)), token: 799, generation: 1 },
      { ...(await setUp('batch-expired', 900, 'running', -1_000)), token: 900, generation: 1 },
      { ...(await setUp('batch-completed', 1000, 'completed')), token: 1000, generation: 1 },
      { ...(await setUp('batch-generation', 1100)), token: 1100, generation: 0 },
    ];
    const written = await store.writeStatuses(h.db, [
      ...bad.map((b) => ({
        id: b.resource.id,
        generation: b.generation,
        lease: { jobKey: b.jobKey, token: b.token },
        status: READY,
        opState: 'succeeded' as const,
        error: null,
      })),
      {
        id: live.resource.id,
        generation: 1,
        lease: { jobKey: live.jobKey, token: 700 },
        status: READY,
        opState: 'succeeded',
        error: null,
      },
    ]);
    expect(written).toEqual([false, false, false, false, true]);
    expect(await statusOf(live.resource.id)).toBe('Ready');
    expect(await opState(live.operation.id)).toBe('succeeded');
    for (const b of bad) {
      expect(await statusOf(b.resource.id)).toBe('Provisioning');
      expect(await storedState(b.operation.id)).toBe('pending');
    }
  });

  it('in one batched start, loads each resource with its references and writes no operation', async () => {
    const a = await setUp('start-a', 1200);
    const b = await setUp('start-b', 1300);
    const starts = await store.beginPasses(h.db, [a.resource.id, 'net_missing', b.resource.id]);
    expect(starts.map((s) => s?.resource.id)).toEqual([a.resource.id, undefined, b.resource.id]);
    expect(await storedState(a.operation.id)).toBe('pending');
    expect(await storedState(b.operation.id)).toBe('pending');
    expect((await store.beginPass(h.db, a.resource.id))?.resource.id).toBe(a.resource.id);
    expect(await store.beginPass(h.db, 'net_missing')).toBeUndefined();
    expect(await storedState(a.operation.id)).toBe('pending');
  });

  it('reads a pending operation as running once its job took a lease at its generation, and only then', async () => {
    // No ledger row: the job never started.
    const answer = await h.service.create('t', 'networks', {
      name: 'derive-none',
      spec: { cidr: '10.200.0.0/24' },
    });
    const fresh = (JSON.parse(answer.body) as Accepted).operation!;
    expect(await opState(fresh.id)).toBe('pending');
    // A live lease, and a lease its dead worker left behind: running, as before the start
    // stopped writing it.
    const live = await setUp('derive-live', 1500);
    expect(await opState(live.operation.id)).toBe('running');
    const dead = await setUp('derive-dead', 1600, 'running', -1_000);
    expect(await opState(dead.operation.id)).toBe('running');
    // A job between attempts (a retry due later) is still running.
    const retrying = await setUp('derive-retry', 1700, 'pending');
    expect(await opState(retrying.operation.id)).toBe('running');
    // A redriven job starts again at attempt 0: pending until its next lease.
    const redriven = await setUp('derive-redriven', 1800, 'pending');
    await h.db.query('UPDATE stratus_ledger SET attempt = 0 WHERE job_key = $1', [redriven.jobKey]);
    expect(await opState(redriven.operation.id)).toBe('pending');
    // The resource moved to a newer generation: this job's pass ends superseded; until then the
    // operation is not running.
    const behind = await setUp('derive-behind', 1900);
    await h.db.query('UPDATE stratus_resources SET generation = 2 WHERE id = $1', [behind.resource.id]);
    expect(await opState(behind.operation.id)).toBe('pending');
    // A stored state is read as it is.
    expect(await store.markOperation(h.db, { jobKey: live.jobKey, token: 1500 }, 'superseded', null)).toBe(
      true,
    );
    expect(await opState(live.operation.id)).toBe('superseded');
    // The same derivation where operations are read by resource and by job.
    expect((await store.latestOperation(h.db, dead.resource.id))?.state).toBe('running');
    expect((await store.latestOperation(h.db, redriven.resource.id))?.state).toBe('pending');
    const byJob = await store.operationsOfJobs(h.db, [dead.jobKey, redriven.jobKey, live.jobKey]);
    expect([dead.jobKey, redriven.jobKey, live.jobKey].map((k) => byJob.get(k)?.state)).toEqual([
      'running',
      'pending',
      'superseded',
    ]);
  });

  it("keeps the row's outputs when asked (a controller's report written during the pass), single and batched", async () => {
    // A controller reports into the outputs after the pass read them ({} here): a write that
    // keeps outputs leaves its report; one that does not (the known-bad lost update) drops it.
    const report = (id: string) =>
      h.db.query(
        `UPDATE stratus_resources SET status = jsonb_set(status, '{outputs}', '{"scaling":{"desired":3}}'::jsonb) WHERE id = $1`,
        [id],
      );
    const stale: ResourceStatus = { ...READY, outputs: {} };
    const outputsOf = async (id: string) => (await store.loadResource(h.db, id))!.status.outputs;
    const kept = await setUp('keep-one', 2000);
    const lost = await setUp('lose-one', 2100);
    const keptBatch = await setUp('keep-batch', 2200);
    const lostBatch = await setUp('lose-batch', 2300);
    for (const r of [kept, lost, keptBatch, lostBatch]) await report(r.resource.id);
    const lease = (r: { jobKey: string }, token: number) => ({ jobKey: r.jobKey, token });
    expect(
      await store.writeStatus(h.db, kept.resource.id, 1, lease(kept, 2000), stale, 'succeeded', null, true),
    ).toBe(true);
    expect(
      await store.writeStatus(h.db, lost.resource.id, 1, lease(lost, 2100), stale, 'succeeded', null),
    ).toBe(true);
    const write = (r: typeof kept, token: number, keepOutputs: boolean) => ({
      id: r.resource.id,
      generation: 1,
      lease: lease(r, token),
      status: stale,
      opState: 'succeeded' as const,
      error: null,
      keepOutputs,
    });
    expect(
      await store.writeStatuses(h.db, [write(keptBatch, 2200, true), write(lostBatch, 2300, false)]),
    ).toEqual([true, true]);
    for (const r of [kept, keptBatch]) {
      expect(await outputsOf(r.resource.id)).toEqual({ scaling: { desired: 3 } });
      expect(await statusOf(r.resource.id)).toBe('Ready');
    }
    for (const r of [lost, lostBatch]) expect(await outputsOf(r.resource.id)).toEqual({});
  });

  it('drops a deleted resource only under the live lease', async () => {
    const { resource, jobKey } = await setUp('gone', 600);
    // Not asked to delete: nothing is dropped even under the live lease.
    expect(await store.finalizeDelete(h.db, resource.id, 1, { jobKey, token: 600 })).toBe(false);
    await h.db.query('UPDATE stratus_resources SET deletion_requested_at = now() WHERE id = $1', [
      resource.id,
    ]);
    expect(await store.finalizeDelete(h.db, resource.id, 1, { jobKey, token: 599 })).toBe(false);
    expect(await store.finalizeDelete(h.db, resource.id, 1, { jobKey, token: 600 })).toBe(true);
    expect(await store.loadResource(h.db, resource.id)).toBeUndefined();
  });
});
