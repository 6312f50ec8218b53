// The garbage collector against the in-process simulator and a real PostgreSQL: an object whose
// resource-id label names no resource is deleted once it has been an orphan for the grace, and
// only then; an owned object and an unlabelled one are never touched; a job still holding an
// older lease is refused on a collected object; the audit fails on a deletion of an owned
// object or of one inside its grace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PassContext } from '../../src/controllers/framework/define.js';
import { type GcDeletion, gcViolations, readGcDeletions } from '../../src/controllers/gc/audit.js';
import { gcController } from '../../src/controllers/gc/controller.js';
import { isStaleFencingTokenError } from '../../src/core/errors/backend-errors.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { backendLabels } from '../../src/kinds/labels.js';
import { migrations } from '../../src/migrations/index.js';
import { createSimBackends } from '../../src/sim/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const GRACE = 60_000;
const key = new LeaderKeyRegistry().register('garbage-collector', 122);

describe('the garbage collector', () => {
  let t: TestDatabase;
  let db: Database;
  let elector: MemoryElector;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 3 });
    await migrate(db, migrations);
    elector = new MemoryElector('node-a', new MemoryLeadership(), db);
  });
  afterAll(async () => {
    await elector?.close();
    await db?.close();
    await t?.drop();
  });

  const addResource = (id: string, kind: string) =>
    db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       VALUES ($1, 't1', $2, $1, '{}'::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'))`,
      [id, kind],
    );

  it('deletes orphans after the grace, in order, and nothing it does not own', {
    timeout: 30_000,
  }, async () => {
    const sim = createSimBackends();
    const token = (n: string) => ({ clientToken: `seed/${n}`, fencingToken: 5 });
    // Owned: its resource exists. Foreign: no label. Orphans: a label naming no resource.
    await addResource('inst_owned', 'instances');
    const owned = await sim.compute.createInstance(
      { name: 'owned', image: 'debian-12', size: 'small', labels: backendLabels('inst_owned') },
      token('owned'),
    );
    const foreign = await sim.compute.createInstance(
      { name: 'foreign', image: 'debian-12', size: 'small' },
      token('f'),
    );
    const orphan = await sim.compute.createInstance(
      { name: 'orphan', image: 'debian-12', size: 'small', labels: backendLabels('inst_gone') },
      token('orphan'),
    );
    const net = await sim.network.createNetwork(
      { name: 'gone-net', cidr: '10.9.0.0/24', labels: backendLabels('net_gone') },
      token('net'),
    );
    const vol = await sim.storage.createVolume(
      { name: 'gone-vol', sizeGiB: 1, labels: backendLabels('vol_gone') },
      token('vol'),
    );
    const brief = await sim.storage.createVolume(
      { name: 'brief', sizeGiB: 1, labels: backendLabels('vol_brief') },
      token('brief'),
    );
    // A job's lease token, from the ledger's sequence as every lease's: the job stopped the
    // orphan before its resource went.
    const lease = Number(
      (await db.query<{ t: string }>("SELECT nextval('stratus_ledger_token_seq') AS t")).rows[0]!.t,
    );
    await sim.compute.stopInstance(orphan.id, { clientToken: 'job-1', fencingToken: lease });

    const term = await elector.campaign(key, new AbortController().signal);
    let now = Date.now();
    const ctx: PassContext = {
      signal: term.signal,
      term,
      epoch: term.epoch,
      now: () => now,
      db,
      fenced: (fn) => fencedTransaction(db, term, fn),
    };
    const deleted: string[] = [];
    const gc = gcController({
      leaderKey: key,
      ports: sim,
      graceMs: GRACE,
      onDelete: (collection, id) => deleted.push(`${collection}/${id}`),
    });
    const orphans = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stratus_gc_orphans')).rows[0]!.n;

    await gc.pass(ctx);
    expect(await orphans()).toBe(4);
    // One of them goes by itself before its grace: forgotten, never deleted by the collector.
    await sim.storage.deleteVolume(brief.id, token('brief-del'));
    now += GRACE / 2;
    await gc.pass(ctx);
    expect(deleted).toEqual([]);
    expect(await orphans()).toBe(3);

    now += GRACE / 2;
    await gc.pass(ctx);
    expect(deleted).toEqual([
      `compute.instances/${orphan.id}`,
      `storage.volumes/${vol.id}`,
      `network.networks/${net.id}`,
    ]);
    expect(await orphans()).toBe(0);
    const left = (await sim.compute.listInstances()).items.map((i) => i.id).sort();
    expect(left).toEqual([owned.id, foreign.id].sort());
    expect((await sim.network.listNetworks()).items).toEqual([]);

    // The job, still holding its old lease, is refused on the collected instance's id.
    const late = await sim.compute
      .startInstance(orphan.id, { clientToken: 'job-2', fencingToken: lease })
      .catch((e) => e);
    expect(isStaleFencingTokenError(late)).toBe(true);

    // The deletions keep the rules: of orphans only, past the grace.
    const deletions = await readGcDeletions(db);
    expect(deletions.map((d) => d.backendId).sort()).toEqual([orphan.id, vol.id, net.id].sort());
    expect(gcViolations(deletions, GRACE)).toEqual([]);
    // A pass over an unchanged world after that writes nothing more.
    await gc.pass(ctx);
    expect(deleted).toHaveLength(3);
  });

  it('the audit fails on a deletion of an owned object, or of one inside its grace', () => {
    const ok: GcDeletion = {
      collection: 'compute.instances',
      backendId: 'i-1',
      resourceId: 'inst_gone',
      firstSeenMs: 1_000,
      deletedMs: 1_000 + GRACE,
      resourceExists: false,
    };
    expect(gcViolations([ok], GRACE)).toEqual([]);
    const owned = { ...ok, backendId: 'i-2', resourceExists: true };
    const early = { ...ok, backendId: 'i-3', deletedMs: 1_000 + GRACE - 1 };
    expect(gcViolations([ok, owned, early], GRACE).map((v) => [v.type, v.deletion.backendId])).toEqual([
      ['owned', 'i-2'],
      ['early', 'i-3'],
    ]);
  });
});
