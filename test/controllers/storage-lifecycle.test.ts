// Storage lifecycle in one process, on real PostgreSQL and the in-process simulated cloud, the
// controller's passes called by the test under in-process leadership with an injected clock:
// 422s for a bad policy and a bad expiry; a volume's scheduled snapshots taken once per slot
// (a second pass in the slot, or a successor, takes none) and pruned to `keep`, judged by the
// retention audit after every pass; an expired snapshot deleted, one a volume restores from
// kept; a deposed leader refused by the fence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import type { ControllerDefinition, PassContext } from '../../src/controllers/framework/define.js';
import { storageLifecycleController } from '../../src/controllers/storage/controller.js';
import {
  autoSnapshotName,
  type RetentionSample,
  retentionViolations,
  SNAPSHOT_OF_LABEL,
  slotOf,
} from '../../src/controllers/storage/plan.js';
import type { Resource } from '../../src/core/resources/resource.js';
import { isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { createSimBackends } from '../../src/sim/index.js';
import { type ControlHarness, openControlHarness, tenantClient } from '../control/harness.js';
import { until } from '../helpers/poll.js';

type Json = Record<string, unknown>;
const key = new LeaderKeyRegistry().register('storage-lifecycle', 118);
const MIN = 60_000;

describe('storage lifecycle (one process, real PostgreSQL)', () => {
  let h: ControlHarness;
  let elector: MemoryElector;
  let term: LeaderTerm;
  let controller: ControllerDefinition;
  let now = Math.ceil(Date.now() / (5 * MIN)) * 5 * MIN + 1_000;

  const { send: req } = tenantClient(() => h);
  const ctxOf = (t: LeaderTerm): PassContext => ({
    signal: t.signal,
    term: t,
    epoch: t.epoch,
    now: () => now,
    db: h.db,
    fenced: (fn) => fencedTransaction(h.db, t, fn),
  });
  const pass = () => controller.pass(ctxOf(term));
  const snapshotsOf = async (volume: string) =>
    ((await req('GET', `/v1/snapshots?limit=500`)).body.items as Resource[]).filter(
      (s) => s.labels[SNAPSHOT_OF_LABEL] === volume,
    );
  const ready = async (kind: string, id: string) =>
    (await req('GET', `/v1/${kind}/${id}?wait=20s`)).body.status as { phase: string };

  beforeAll(async () => {
    h = await openControlHarness('pg', { ports: createBackends({ memory: createSimBackends() }) });
    h.startWorker();
    elector = new MemoryElector('node-a', new MemoryLeadership(), h.db);
    term = await elector.campaign(key, new AbortController().signal);
    controller = storageLifecycleController({ leaderKey: key, service: h.service });
  }, 60_000);
  afterAll(async () => {
    await elector?.close();
    await h?.close();
  });

  it('answers 422 naming the field for a bad policy and a bad expiry', async () => {
    const path = async (url: string, body: Json) => {
      const res = await req('POST', url, body);
      expect(res.status).toBe(422);
      return (res.body.errors as Array<{ path: string }>)[0]!.path;
    };
    const vol = { name: 'v-bad', spec: { sizeGiB: 1, type: 'ssd' } };
    expect(
      await path('/v1/volumes', {
        ...vol,
        spec: { ...vol.spec, snapshotPolicy: { everyMinutes: 1, keep: 2 } },
      }),
    ).toBe('/spec/snapshotPolicy/everyMinutes');
    expect(
      await path('/v1/volumes', {
        ...vol,
        spec: { ...vol.spec, snapshotPolicy: { everyMinutes: 60, keep: 0 } },
      }),
    ).toBe('/spec/snapshotPolicy/keep');
    const v = (await req('POST', '/v1/volumes', { name: 'v-ok', spec: { sizeGiB: 1, type: 'ssd' } })).body
      .resource as Resource;
    expect(
      await path('/v1/snapshots', { name: 's-bad', spec: { volume: v.id, expiresAt: 'tomorrow' } }),
    ).toBe('/spec/expiresAt');
  });

  it('takes one snapshot per slot, keeps the newest two, deletes the expired, keeps one being restored, refuses a deposed leader', {
    timeout: 90_000,
  }, async () => {
    const created = await req('POST', '/v1/volumes', {
      name: 'data',
      spec: { sizeGiB: 2, type: 'ssd', snapshotPolicy: { everyMinutes: 5, keep: 2 } },
    });
    const vol = created.body.resource as Resource;
    expect((await ready('volumes', vol.id)).phase).toBe('Ready');
    const samples: RetentionSample[] = [];
    const sample = async () =>
      samples.push({
        at: now,
        live: (await snapshotsOf(vol.id)).filter((s) => !s.deletionRequestedAt).length,
      });

    await pass();
    await pass();
    await sample();
    const first = await snapshotsOf(vol.id);
    expect(first.map((s) => s.name)).toEqual([autoSnapshotName('data', slotOf(now, 5))]);
    // Four more slots: never more than keep + 1 alive, and the newest two at the end.
    for (let i = 0; i < 4; i++) {
      now += 5 * MIN;
      await pass();
      await sample();
      await until(
        async () => (await snapshotsOf(vol.id)).every((s) => !s.deletionRequestedAt),
        20_000,
        'the pruned snapshots gone',
        50,
      );
      await sample();
    }
    expect(retentionViolations(samples, { everyMinutes: 5, keep: 2 })).toEqual([]);
    expect((await snapshotsOf(vol.id)).map((s) => s.name).sort()).toEqual(
      [autoSnapshotName('data', slotOf(now - 5 * MIN, 5)), autoSnapshotName('data', slotOf(now, 5))].sort(),
    );

    // A snapshot past its expiry goes; one in the future stays; one a volume restores from stays.
    const snap = async (name: string, expiresAt: string) =>
      (await req('POST', '/v1/snapshots', { name, spec: { volume: vol.id, expiresAt } })).body
        .resource as Resource;
    const old = await snap('old', new Date(now - MIN).toISOString());
    const later = await snap('later', new Date(now + 60 * MIN).toISOString());
    const held = await snap('held', new Date(now - MIN).toISOString());
    for (const s of [old, later, held]) expect((await ready('snapshots', s.id)).phase).toBe('Ready');
    const restore = await req('POST', '/v1/volumes', {
      name: 'restored',
      spec: { sizeGiB: 2, type: 'ssd', fromSnapshot: held.id },
    });
    expect(restore.status).toBe(202);
    await pass();
    expect((await req('GET', `/v1/snapshots/${old.id}`)).body.deletionRequestedAt).not.toBeNull();
    expect((await req('GET', `/v1/snapshots/${later.id}`)).body.deletionRequestedAt).toBeNull();
    expect((await req('GET', `/v1/snapshots/${held.id}`)).body.deletionRequestedAt).toBeNull();

    // A deposed leader takes nothing.
    const deposed = term;
    term = await new MemoryElector('node-b', new MemoryLeadership(), h.db).campaign(
      key,
      new AbortController().signal,
    );
    now += 5 * MIN;
    expect(isStaleEpochError(await controller.pass(ctxOf(deposed)).catch((e) => e))).toBe(true);
    expect((await snapshotsOf(vol.id)).some((s) => s.name === autoSnapshotName('data', slotOf(now, 5)))).toBe(
      false,
    );
    await pass();
    expect((await snapshotsOf(vol.id)).some((s) => s.name === autoSnapshotName('data', slotOf(now, 5)))).toBe(
      true,
    );
  });

  it('the retention audit fails on more than keep + 1 alive', () => {
    expect(retentionViolations([{ at: 0, live: 3 }], { everyMinutes: 5, keep: 2 })).toEqual([]);
    expect(retentionViolations([{ at: 0, live: 4 }], { everyMinutes: 5, keep: 2 })).toEqual([
      'at 1970-01-01T00:00:00.000Z: 4 automatic snapshots, above keep 2 + 1',
    ]);
  });
});
