import { describe, expect, it } from 'vitest';
import { createSimBackends } from '../index.js';
import { summarizeAudit } from './summary.js';

const spec = { name: 'web', image: 'ubuntu', size: 'small' };

describe('audit of destructive calls', () => {
  it('records time, operation, resource, tokens, caller and outcome, and filters them', async () => {
    let now = 1_000;
    const { compute, cloud } = createSimBackends({ wallClock: () => now });
    const a = await compute.createInstance(spec, { clientToken: 'c1', fencingToken: 2, caller: 'node-a' });
    await compute.createInstance(spec, { clientToken: 'c1', fencingToken: 2, caller: 'node-b' });
    await compute.createInstance({ ...spec, size: 'large' }, { clientToken: 'c1' }).catch(() => {});
    await compute
      .stopInstance(a.id, { clientToken: 's1', fencingToken: 1, caller: 'node-a' })
      .catch(() => {});
    now = 2_000;
    await compute.stopInstance(a.id, { clientToken: 's2', fencingToken: 5 });
    await compute.stopInstance(a.id, { clientToken: 's3', fencingToken: 4 }).catch(() => {});
    await compute.deleteInstance('i-nope', { clientToken: 'd1' }).catch(() => {});
    expect(cloud.audit.map((e) => [e.op, e.clientToken, e.outcome])).toEqual([
      ['createInstance', 'c1', 'created'],
      ['createInstance', 'c1', 'replayed'],
      ['createInstance', 'c1', 'conflict'],
      ['stopInstance', 's1', 'created'],
      ['stopInstance', 's2', 'created'],
      ['stopInstance', 's3', 'refused-stale'],
      ['deleteInstance', 'd1', 'failed'],
    ]);
    expect(cloud.audit[0]).toEqual({
      seq: 1,
      at: 1_000,
      backend: 'compute',
      op: 'createInstance',
      resource: 'instance/name:web',
      clientToken: 'c1',
      fencingToken: 2,
      caller: 'node-a',
      outcome: 'created',
    });
    expect(cloud.auditLog.query({ caller: 'node-a' }).map((e) => e.seq)).toEqual([1, 4]);
    expect(cloud.auditLog.query({ outcome: 'refused-stale', backend: 'compute' })).toHaveLength(1);
    expect(cloud.auditLog.query({ afterSeq: 5 }).map((e) => e.seq)).toEqual([6, 7]);
    expect(cloud.auditLog.query({ since: 2_000 }).map((e) => e.at)).toEqual([2_000, 2_000, 2_000]);
    expect(cloud.auditLog.query({ resource: `instance/${a.id}`, since: 2_000 }).map((e) => e.seq)).toEqual([
      5, 6,
    ]);

    const summary = summarizeAudit(cloud.audit);
    expect(summary).toMatchObject({
      calls: 7,
      duplicates: [],
      staleRefusals: 1,
      staleAcceptances: [],
      ok: true,
    });
    expect(summary.outcomes).toEqual({ created: 3, replayed: 1, conflict: 1, 'refused-stale': 1, failed: 1 });
  });

  it('shows a duplicate and a stale acceptance when the cloud is told not to enforce tokens', async () => {
    const { compute, cloud } = createSimBackends({ enforce: { clientTokens: false, fencing: false } });
    // A scripted double call: the same job step twice, as after a lost reply.
    await compute.createInstance(spec, { clientToken: 'job-7', fencingToken: 3 });
    await compute.createInstance(spec, { clientToken: 'job-7', fencingToken: 3 });
    // A deposed owner (token 2) acting after the new one (token 3).
    const [first] = (await compute.listInstances()).items;
    await compute.stopInstance(first!.id, { clientToken: 'stop-new', fencingToken: 3 });
    await compute.stopInstance(first!.id, { clientToken: 'stop-old', fencingToken: 2 });

    expect((await compute.listInstances()).items).toHaveLength(2);
    const summary = summarizeAudit(cloud.audit);
    expect(summary.ok).toBe(false);
    expect(summary.duplicates).toEqual([
      { operation: 'compute.createInstance', clientToken: 'job-7', effects: 2, seqs: [1, 2] },
    ]);
    expect(summary.staleAcceptances).toEqual([
      { seq: 4, resource: `instance/${first!.id}`, fencingToken: 2, newest: 3 },
    ]);
  });

  it('passes the same script when the cloud enforces tokens', async () => {
    const { compute, cloud } = createSimBackends();
    await compute.createInstance(spec, { clientToken: 'job-7', fencingToken: 3 });
    await compute.createInstance(spec, { clientToken: 'job-7', fencingToken: 3 });
    const [first] = (await compute.listInstances()).items;
    await compute.stopInstance(first!.id, { clientToken: 'stop-new', fencingToken: 3 });
    await compute.stopInstance(first!.id, { clientToken: 'stop-old', fencingToken: 2 }).catch(() => {});
    expect(summarizeAudit(cloud.audit)).toMatchObject({ ok: true, staleRefusals: 1, duplicates: [] });
  });

  it('streams each entry to subscribers as it is appended, and a throwing one harms nothing', async () => {
    const { dns, cloud } = createSimBackends();
    const seen: number[] = [];
    const stop = cloud.auditLog.subscribe((e) => seen.push(e.seq));
    cloud.auditLog.subscribe(() => {
      throw new Error('broken stream');
    });
    await dns.createZone({ domain: 'a.test' }, { clientToken: 'z1' });
    stop();
    await dns.createZone({ domain: 'b.test' }, { clientToken: 'z2' });
    expect(seen).toEqual([1]);
  });
});
