import { describe, expect, it } from 'vitest';
import {
  isConflictError,
  isInvalidInputError,
  isStaleFencingTokenError,
} from '../../core/errors/backend-errors.js';
import { twoWritable } from '../audit/two-writable.js';
import { createSimBackends } from '../index.js';
import { rolesResource } from './database.js';

const spec = {
  name: 'orders',
  engine: 'postgres',
  version: '16',
  replicas: 2,
  instanceType: 'small',
} as const;
const error = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

async function cluster() {
  let now = 1_700_000_000_000;
  const sim = createSimBackends({ wallClock: () => now });
  const db = await sim.database.createDatabase(spec, { clientToken: 'create' });
  return { sim, db, tick: (ms: number) => (now += ms), nodes: db.nodes.map((n) => n.name) };
}

describe('simulated managed databases', () => {
  it('creates a primary and its replicas once per client token; refuses an engine version not offered', async () => {
    const { sim, db } = await cluster();
    expect(db.nodes.map((n) => n.role)).toEqual(['primary', 'replica', 'replica']);
    expect(await sim.database.createDatabase(spec, { clientToken: 'create' })).toEqual(db);
    const bad = await error(
      sim.database.createDatabase({ ...spec, name: 'x', version: '9' }, { clientToken: 'b' }),
    );
    expect(isInvalidInputError(bad)).toBe(true);
  });

  it('fences then promotes with one epoch; an older epoch is refused for the database and audited', async () => {
    const { sim, db, nodes } = await cluster();
    sim.database.setHealth(db.id, nodes[0]!, false);
    await sim.database.fence(db.id, nodes[0]!, { clientToken: 'f2', fencingToken: 2 });
    const after = await sim.database.promote(db.id, nodes[1]!, { clientToken: 'p2', fencingToken: 2 });
    expect(after.nodes.map((n) => n.role)).toEqual(['fenced', 'primary', 'replica']);
    const stale = await error(sim.database.promote(db.id, nodes[2]!, { clientToken: 'p1', fencingToken: 1 }));
    expect(isStaleFencingTokenError(stale)).toBe(true);
    const staleFence = await error(
      sim.database.fence(db.id, nodes[1]!, { clientToken: 'f1', fencingToken: 1 }),
    );
    expect(isStaleFencingTokenError(staleFence)).toBe(true);
    expect(
      sim.cloud.audit
        .filter((e) => e.outcome === 'refused-stale')
        .map((e) => [e.op, e.resource, e.fencingToken]),
    ).toEqual([
      ['promote', rolesResource(db.id), 1],
      ['fence', rolesResource(db.id), 1],
    ]);
    // The same epoch again is accepted (≥ the newest seen).
    await sim.database.fence(db.id, nodes[0]!, { clientToken: 'f2b', fencingToken: 2 });
    expect(twoWritable(sim.database.writableHistory())).toEqual([]);
  });

  it('refuses to promote past a healthy primary, a down or a fenced node', async () => {
    const { sim, db, nodes } = await cluster();
    const live = await error(sim.database.promote(db.id, nodes[1]!, { clientToken: 'a', fencingToken: 1 }));
    expect(isConflictError(live)).toBe(true);
    sim.database.setHealth(db.id, nodes[0]!, false);
    sim.database.setHealth(db.id, nodes[1]!, false);
    expect(
      isConflictError(
        await error(sim.database.promote(db.id, nodes[1]!, { clientToken: 'b', fencingToken: 1 })),
      ),
    ).toBe(true);
    await sim.database.fence(db.id, nodes[2]!, { clientToken: 'c', fencingToken: 1 });
    expect(
      isConflictError(
        await error(sim.database.promote(db.id, nodes[2]!, { clientToken: 'd', fencingToken: 1 })),
      ),
    ).toBe(true);
  });

  it('promoting past a down primary that was not fenced is the split brain the audit reports', async () => {
    const { sim, db, nodes, tick } = await cluster();
    sim.database.setHealth(db.id, nodes[0]!, false);
    tick(5);
    await sim.database.promote(db.id, nodes[1]!, { clientToken: 'p', fencingToken: 1 });
    const violations = twoWritable(sim.database.writableHistory());
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ database: db.id, nodes: [nodes[0], nodes[1]].sort() });
  });

  it('switches over between healthy nodes in one step, never two writable; not from a down primary', async () => {
    const { sim, db, nodes } = await cluster();
    const after = await sim.database.switchover(db.id, nodes[2]!, { clientToken: 's', fencingToken: 7 });
    expect(after.nodes.map((n) => n.role)).toEqual(['replica', 'replica', 'primary']);
    sim.database.setHealth(db.id, nodes[2]!, false);
    expect(
      isConflictError(await error(sim.database.switchover(db.id, nodes[0]!, { clientToken: 't' }))),
    ).toBe(true);
    expect(twoWritable(sim.database.writableHistory())).toEqual([]);
  });

  it('snapshots, restores one of its snapshots, and rotates credentials revoking the old secret', async () => {
    const { sim, db } = await cluster();
    const snap = await sim.database.snapshotDatabase(db.id, { clientToken: 'snap' });
    expect((await sim.database.restoreDatabase(db.id, snap.id, { clientToken: 'r' })).restoredFrom).toBe(
      snap.id,
    );
    const first = await sim.database.rotateCredentials(db.id, { clientToken: 'rot1' });
    const second = await sim.database.rotateCredentials(db.id, { clientToken: 'rot2' });
    expect([first.version, second.version]).toEqual([2, 3]);
    expect(sim.database.acceptsPassword(db.id, second.password)).toBe(true);
    expect(sim.database.acceptsPassword(db.id, first.password)).toBe(false);
    // A listing names the version only, never a secret.
    const listed = JSON.stringify(await sim.database.listDatabases());
    expect(listed).not.toContain(second.password);
    expect((await sim.database.getDatabase(db.id)).credentialsVersion).toBe(3);
  });
});
