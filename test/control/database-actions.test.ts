// The databases kind through HTTP, reconciled against the in-process simulator: validation of
// engine, version, replicas and size naming the field; the actions promote (a switchover),
// snapshot, restore and rotate-credentials, each carried out once; no secret in any answer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { createSimBackends, type SimBackends, twoWritable } from '../../src/sim/index.js';
import { type ControlHarness, type Json, openControlHarness, tenantClient } from './harness.js';

const spec = { engine: 'postgres', version: '16', replicas: 2, instanceType: 'small' };

// On PostgreSQL only: nothing here depends on the driver, and the generic write path runs on
// both in the neighbouring tests.
describe.each(['pg'] as const)('databases on %s', (driver) => {
  let h: ControlHarness;
  const { send, settle } = tenantClient(() => h);
  let sim: SimBackends;
  beforeAll(async () => {
    sim = createSimBackends();
    h = await openControlHarness(driver, { ports: createBackends({ memory: sim }) });
    h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a bad engine, version, replica count or size with a 422 naming each field', async () => {
    const version = await send('POST', '/v1/databases', { name: 'v', spec: { ...spec, version: '9.6' } });
    expect(version.status).toBe(422);
    expect(version.body.errors).toEqual([
      expect.objectContaining({ path: '/spec/version', message: expect.stringContaining('14, 15, 16, 17') }),
    ]);
    const mysql = await send('POST', '/v1/databases', { name: 'm', spec: { ...spec, engine: 'mysql' } });
    expect(mysql.status).toBe(422);
    expect(mysql.body.errors[0].message).toContain('8.0, 8.4');
    const bad = await send('POST', '/v1/databases', {
      name: 'b',
      spec: { engine: 'oracle', version: '16', replicas: 9, instanceType: 'huge' },
    });
    expect(bad.status).toBe(422);
    const paths = bad.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/spec/engine', '/spec/replicas', '/spec/instanceType']));
    const missing = await send('POST', '/v1/databases', { name: 'x', spec: { engine: 'postgres' } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['/spec/version']),
    );
  });

  it('creates a primary and its replicas, then promotes, snapshots, restores and rotates, each once', async () => {
    const created = await send('POST', '/v1/databases', { name: 'orders', spec });
    expect(created.status).toBe(202);
    const db = (await settle(created.body.operation.id)).resource as Json;
    const out = db.status.outputs;
    expect(out.replicas.map((n: Json) => n.role)).toEqual(['primary', 'replica', 'replica']);
    expect(out.primary).toBe(out.replicas[0].name);
    expect(out.credentialsVersion).toBe(1);

    const target = out.replicas[2].name as string;
    const promote = await send('POST', `/v1/databases/${db.id}/promote`, { replica: target });
    expect(promote.status).toBe(202);
    const promoted = (await settle(promote.body.operation.id)).resource as Json;
    expect(promoted.status.outputs.primary).toBe(target);
    expect((await send('POST', `/v1/databases/${db.id}/promote`, { replica: target })).status).toBe(200);
    const unknown = await send('POST', `/v1/databases/${db.id}/promote`, { replica: 'nope' });
    expect(unknown.status).toBe(409);
    expect(unknown.body.detail).toContain('no node nope');
    const noBody = await send('POST', `/v1/databases/${db.id}/promote`, {});
    expect(noBody.status).toBe(422);

    const snap = await send('POST', `/v1/databases/${db.id}/snapshot`);
    const snapped = (await settle(snap.body.operation.id)).resource as Json;
    expect(snapped.status.outputs.snapshots).toHaveLength(1);
    const snapshotId = snapped.status.outputs.snapshots[0] as string;

    const badRestore = await send('POST', `/v1/databases/${db.id}/restore`, { snapshot: 'dbsnap-none' });
    expect(badRestore.status).toBe(409);
    const restore = await send('POST', `/v1/databases/${db.id}/restore`, { snapshot: snapshotId });
    expect(restore.status).toBe(202);
    const restored = (await settle(restore.body.operation.id)).resource as Json;
    expect(restored.status.outputs.restoredFrom).toBe(snapshotId);

    const rotate = await send('POST', `/v1/databases/${db.id}/rotate-credentials`);
    const rotated = (await settle(rotate.body.operation.id)).resource as Json;
    expect(rotated.status.outputs.credentialsVersion).toBe(2);

    const effects = (op: string) =>
      sim.cloud.audit.filter((e) => e.backend === 'database' && e.op === op && e.outcome === 'created');
    expect(effects('switchover')).toHaveLength(1);
    expect(effects('snapshotDatabase')).toHaveLength(1);
    expect(effects('restoreDatabase')).toHaveLength(1);
    expect(effects('rotateCredentials')).toHaveLength(1);
    expect(twoWritable(sim.database.writableHistory())).toEqual([]);

    // No answer carries a secret: the listing and the resource name the version only.
    const list = await send('GET', '/v1/databases');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toMatch(/password|secret/i);
    expect(list.body.items[0].status.outputs.credentialsVersion).toBe(2);

    const immutable = await send('PATCH', `/v1/databases/${db.id}`, { spec: { version: '17' } });
    expect(immutable.status).toBe(422);
    expect(JSON.stringify(immutable.body)).toContain('/spec/version');

    const del = await send('DELETE', `/v1/databases/${db.id}`);
    expect(del.status).toBe(202);
    await settle(del.body.operation.id);
    expect(sim.database.all()).toEqual([]);
  });
});
