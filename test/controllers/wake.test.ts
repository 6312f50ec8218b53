// The event wake on both drivers: a notification of the outbox channel reads the new events at
// once (the poll is an hour here, so only the notification can wake it), each resource once
// with its kind and owner; with no channel it reads on its poll alone; unsubscribed, it reads
// nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventWake, type WakeBatch } from '../../src/controllers/framework/wake.js';
import type { Database, Queryable } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { OUTBOX_CHANNEL } from '../../src/ha/outbox/outbox.js';
import { migrations } from '../../src/migrations/index.js';
import { drivers, openTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';

describe.each(drivers)('eventWake on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    await migrate(db, migrations);
  });
  afterAll(() => dispose());

  const write = (id: string, kind: string, owner: string | null, q: Queryable = db) =>
    q.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version, owner_id)
       VALUES ($1, 't1', $2, $1, '{}'::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'), $3)`,
      [id, kind, owner],
    );
  const touch = (id: string, q: Queryable) =>
    q.query(
      `UPDATE stratus_resources SET status = '{"phase":"Ready"}'::jsonb,
         resource_version = nextval('stratus_resource_version_seq') WHERE id = $1`,
      [id],
    );

  it('reads at once on a notification: each changed resource once, with its kind and owner', async () => {
    const wake = eventWake({ db, pollMs: 3_600_000 });
    const batches: WakeBatch[] = [];
    const unsubscribe = wake.subscribe((b) => batches.push(b));
    // Until the first read has found where the events end and the LISTEN session is up, a
    // primer's write and notification may go unheard: repeat them until one is heard.
    let n = 0;
    await until(
      async () => {
        await write(`pre_${driver}_${n++}`, 'networks', null);
        await db.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
        return batches.length > 0;
      },
      10_000,
      'a primer heard',
    );
    // One transaction: a read sees all three events or none of them.
    await db.transaction(async (tx) => {
      await write(`grp_${driver}`, 'autoscaling-groups', null, tx);
      await write(`ins_${driver}_1`, 'instances', `grp_${driver}`, tx);
      await touch(`ins_${driver}_1`, tx);
    });
    const notifiedAt = performance.now();
    await db.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
    const ours = () => batches.find((b) => b.kinds.has('instances'));
    await until(() => ours() !== undefined, 5_000, 'a batch after the notification');
    // Far sooner than the hour-long poll: the notification woke it.
    expect(performance.now() - notifiedAt).toBeLessThan(5_000);
    // Primers' notifications may read once more: only networks, never ours in two pieces.
    expect(batches.filter((b) => b.kinds.has('instances'))).toHaveLength(1);
    expect(ours()!.resources.filter((r) => r.kind !== 'networks')).toEqual([
      { kind: 'autoscaling-groups', id: `grp_${driver}` },
      { kind: 'instances', id: `ins_${driver}_1`, owner: `grp_${driver}` },
    ]);
    expect([...ours()!.kinds].filter((k) => k !== 'networks').sort()).toEqual([
      'autoscaling-groups',
      'instances',
    ]);
    unsubscribe();
  });

  it('with no channel, reads on its poll; unsubscribed, reads nothing more', async () => {
    const wake = eventWake({ db, pollMs: 20, channel: null });
    const batches: WakeBatch[] = [];
    const unsubscribe = wake.subscribe((b) => batches.push(b));
    let n = 0;
    await until(
      async () => {
        await write(`ins_${driver}_poll_${n++}`, 'instances', null);
        return batches.length > 0;
      },
      10_000,
      'a batch from the poll',
    );
    unsubscribe();
    const heard = batches.length;
    // A read in flight may still deliver once; nothing after it.
    await write(`ins_${driver}_after`, 'instances', null);
    const settled = batches.length;
    expect(settled - heard).toBeLessThanOrEqual(1);
    expect(batches.flatMap((b) => b.resources).some((r) => r.id === `ins_${driver}_after`)).toBe(false);
  });
});
