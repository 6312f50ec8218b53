import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DriverName, drivers, openTestDatabase } from '../../test/helpers/db.js';
import type { Database } from '../ha/db/database.js';
import { migrate } from '../ha/db/migrate.js';
import { migrations } from '../migrations/index.js';
import { markNodeStopped, nodeHeartbeat, nodeReaper, reapNodes, registerNode } from './node-registry.js';

describe.each(drivers)('node registry on %s', (driver: DriverName) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    await migrate(db, migrations);
  });
  afterAll(() => dispose());

  const node = (id: string) =>
    db
      .query<{ last_seen_at: Date; stopped_at: Date | null }>(
        'SELECT last_seen_at, stopped_at FROM stratus_nodes WHERE node_id = $1',
        [id],
      )
      .then((r) => r.rows[0]!);

  it('registers, refreshes and marks a node stopped; a restart clears the stop', async () => {
    await registerNode(db, { nodeId: 'n1', role: 'all', version: '1.0.0' });
    const first = await node('n1');
    const errors: Error[] = [];
    const stop = new AbortController();
    const running = nodeHeartbeat(db, 'n1', (e) => errors.push(e), { heartbeatMs: 10 }).start(stop.signal);
    await expect
      .poll(async () => (await node('n1')).last_seen_at.getTime())
      .toBeGreaterThan(first.last_seen_at.getTime());
    stop.abort();
    await running;
    expect(errors).toEqual([]);
    await markNodeStopped(db, 'n1');
    expect((await node('n1')).stopped_at).toBeInstanceOf(Date);
    await registerNode(db, { nodeId: 'n1', role: 'worker', version: '1.0.1' });
    expect((await node('n1')).stopped_at).toBeNull();
  });

  it('reaps nodes silent past the staleness bound, and only those', async () => {
    await registerNode(db, { nodeId: 'silent', role: 'worker', version: '1' });
    await registerNode(db, { nodeId: 'alive', role: 'worker', version: '1' });
    await db.query(
      `UPDATE stratus_nodes SET last_seen_at = now() - interval '1 hour' WHERE node_id = 'silent'`,
    );
    const stop = new AbortController();
    const running = nodeReaper(db, () => {}, { reaperIntervalMs: 10, staleAfterMs: 60_000 }).start(
      stop.signal,
    );
    await expect.poll(async () => (await node('silent')).stopped_at).toBeInstanceOf(Date);
    stop.abort();
    await running;
    const silent = await node('silent');
    expect(silent.stopped_at!.getTime()).toBe(silent.last_seen_at.getTime());
    expect((await node('alive')).stopped_at).toBeNull();
  });

  it('deletes nodes stopped longer than the retention, whether they stopped cleanly or died', async () => {
    for (const id of ['old-clean', 'old-dead', 'recent-stop', 'live']) {
      await registerNode(db, { nodeId: id, role: 'worker', version: '1' });
    }
    await markNodeStopped(db, 'old-clean');
    await markNodeStopped(db, 'recent-stop');
    await db.query(
      `UPDATE stratus_nodes SET stopped_at = now() - interval '2 hours' WHERE node_id = 'old-clean'`,
    );
    // Died two hours ago: the reaper first marks it stopped at its last sign of life, then prunes it.
    await db.query(
      `UPDATE stratus_nodes SET last_seen_at = now() - interval '2 hours', started_at = now() - interval '3 hours' WHERE node_id = 'old-dead'`,
    );
    await reapNodes(db, { staleAfterMs: 60_000, retentionMs: 3_600_000 });
    const left = await db.query<{ node_id: string }>(
      `SELECT node_id FROM stratus_nodes WHERE node_id IN ('old-clean', 'old-dead', 'recent-stop', 'live') ORDER BY node_id`,
    );
    expect(left.rows.map((r) => r.node_id)).toEqual(['live', 'recent-stop']);
  });
});
