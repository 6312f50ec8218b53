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
    expect(await opState(operation.id)).toBe('pending');
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
      expect(await opState(b.operation.id)).toBe('pending');
    }
  });

  it('in one batched start, marks running only the operations under a live lease at their generation', async () => {
    const live = await setUp('start-live', 1200);
    const stale = await setUp('start-stale', 1300);
    const behind = await setUp('start-behind', 1400);
    const starts = await store.beginPasses(h.db, [
      { id: stale.resource.id, generation: 1, lease: { jobKey: stale.jobKey, token: 1299 } },
      { id: 'net_missing', generation: 1, lease: { jobKey: 'reconcile/networks/net_missing/1', token: 1 } },
      { id: behind.resource.id, generation: 2, lease: { jobKey: behind.jobKey, token: 1400 } },
      { id: live.resource.id, generation: 1, lease: { jobKey: live.jobKey, token: 1200 } },
    ]);
    expect(starts.map((s) => s?.resource.id)).toEqual([
      stale.resource.id,
      undefined,
      behind.resource.id,
      live.resource.id,
    ]);
    expect(await opState(live.operation.id)).toBe('running');
    expect(await opState(stale.operation.id)).toBe('pending');
    expect(await opState(behind.operation.id)).toBe('pending');
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
