// Accounting exactly once across failovers, with real processes: three `stratus start --role
// worker` replicas on a fresh database and a 400 ms accounting minute; the accounting leader is
// killed (SIGKILL, and SIGSTOP with SIGCONT once a successor leads) 20 times, each time close to
// a minute boundary, while resources come and go. Then the audit: every ended minute of every
// resource's life recorded once, none missing, none outside a life.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountingViolations } from '../../src/controllers/accounting/audit.js';
import { readAccounting } from '../../src/controllers/accounting/read-audit.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { migrations } from '../../src/migrations/index.js';
import { controlPlaneKeys } from '../../src/runtime/leader-keys.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_FAILOVER_ENV, leaderOf } from '../helpers/failover.js';
import { until } from '../helpers/poll.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const MINUTE_MS = 400;
const FAULTS = 20;
const KEY_ID = controlPlaneKeys.accounting.id;

describe('accounting across leader failovers (real processes)', () => {
  let t: TestDatabase;
  let db: Database;
  const replicas = new Map<string, StratusProcess>();
  /** The log records of every replica, the exited ones too. */
  const everyLog: Array<Record<string, unknown>>[] = [];
  let spawned = 0;

  const spawn = () => {
    const nodeId = `acct-${++spawned}`;
    const p = spawnStratus(['start', '--role', 'worker', '--node-id', nodeId], {
      DATABASE_URL: t.url,
      LOG_LEVEL: 'info',
      ACCOUNTING_MINUTE_MS: String(MINUTE_MS),
      ACCOUNTING_RESYNC_MS: '50',
      ...FAST_FAILOVER_ENV,
    });
    replicas.set(nodeId, p);
    everyLog.push(p.logs);
    void p.exited.then(() => replicas.delete(nodeId));
    return p;
  };
  const leader = () => leaderOf(db, KEY_ID);
  const dbNow = async () => {
    const res = await db.query<{ ms: number }>(
      'SELECT (extract(epoch FROM now()) * 1000)::double precision AS ms',
    );
    return Number(res.rows[0]!.ms);
  };
  let resources = 0;
  const addResource = async () => {
    const id = `inst_${randomUUID().slice(0, 8)}`;
    resources++;
    await db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       VALUES ($1, 't1', 'instances', $1, '{"size":"small"}'::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'))`,
      [id],
    );
    return id;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 3 });
    await migrate(db, migrations);
  });
  afterAll(async () => {
    for (const p of replicas.values()) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    await Promise.all([...replicas.values()].map((p) => p.exited));
    await db?.close();
    await t?.drop();
  });

  it('records each minute once with no gaps after 20 kills and hangs of the leader around minute boundaries', {
    timeout: 120_000,
  }, async () => {
    const live: string[] = [];
    for (let i = 0; i < 8; i++) live.push(await addResource());
    for (let i = 0; i < 3; i++) spawn();
    await Promise.all(
      [...replicas.values()].map((r) =>
        r.waitForLog((l) => l.msg === 'stopped' || String(l.msg).startsWith('stratus ready'), 90_000),
      ),
    );
    await until(async () => (await leader()) !== undefined, 10_000, 'a first accounting leader');
    const faults: Array<{ signal: string; holder: string; epoch: number; atMs: number }> = [];
    for (let i = 0; i < FAULTS; i++) {
      const before = (await leader())!;
      const p = replicas.get(before.holder);
      expect(p, `leader ${before.holder} is one of ours`).toBeDefined();
      // Just before or just after the next boundary, alternately (±60 ms).
      const now = await dbNow();
      const boundary = Math.ceil(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      const target = boundary + (i % 4 < 2 ? -60 : 60) + Math.floor(Math.random() * 40) - 20;
      const local = Date.now() + (target - now);
      await until(() => Date.now() >= local, 5_000, 'the boundary', 2);
      const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGSTOP';
      p!.child.kill(signal);
      faults.push({ signal, holder: before.holder, epoch: before.epoch, atMs: target });
      // Resources come and go while it happens.
      if (i % 3 === 0) live.push(await addResource());
      if (i % 5 === 4) await db.query('DELETE FROM stratus_resources WHERE id = $1', [live.shift()]);
      await until(
        async () =>
          ((await leader())?.epoch ?? 0) > before.epoch && (await leader())?.holder !== before.holder,
        15_000,
        `a successor after ${signal} of ${before.holder}`,
      );
      if (signal === 'SIGSTOP') p!.child.kill('SIGCONT');
      // Keep three replicas: a killed one is replaced; a resumed one rejoins by itself (or exits).
      if (signal === 'SIGKILL') spawn();
    }
    // Let the leader catch up to a boundary after the last fault, then judge up to it.
    const end = Math.floor((await dbNow()) / MINUTE_MS) * MINUTE_MS;
    await until(
      async () => {
        const res = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM stratus_usage_lifetimes
           WHERE NOT done AND next_minute < to_timestamp($1 / 1000.0)`,
          [end],
        );
        return res.rows[0]!.n === 0;
      },
      20_000,
      'accounting to catch up',
      50,
    );
    const { rows, lifetimes } = await readAccounting(db);
    const audit = accountingViolations(rows, lifetimes, { minuteMs: MINUTE_MS, until: end });
    const byEpoch = await db.query<{ n: number }>(
      'SELECT count(DISTINCT epoch)::int AS n FROM stratus_usage',
    );
    // G3 from the other side: every minute was written inside its epoch's term (its transaction
    // began after the term began and before the successor's bump ended it).
    const outsideTerm = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stratus_usage u
       LEFT JOIN stratus_leadership_journal j ON j.key_id = $1 AND j.epoch = u.epoch
       WHERE j.epoch IS NULL OR u.recorded_at < j.acquired_at OR (j.ended_at IS NOT NULL AND u.recorded_at >= j.ended_at)`,
      [KEY_ID],
    );
    // Deposed leaders that tried anyway: a resumed one's pass refused by the fence.
    const refused = everyLog
      .flat()
      .filter(
        (l) => l.msg === 'controller pass failed' && /stale epoch|lost its lock/.test(String(l.err)),
      ).length;
    console.info(
      `accounting failover: ${faults.length} faults (${faults.filter((f) => f.signal === 'SIGKILL').length} SIGKILL), ` +
        `${resources} resources, ${audit.owed} minutes owed, ${rows.length} recorded, ` +
        `${byEpoch.rows[0]!.n} epochs wrote, ${refused} deposed passes refused, ${outsideTerm.rows[0]!.n} written outside their term, gaps ${audit.gaps.length}, doubles ${audit.doubles.length}, outside ${audit.outside.length}`,
    );
    expect(faults).toHaveLength(FAULTS);
    expect(audit.owed).toBeGreaterThan(resources * 10);
    expect(audit.gaps).toEqual([]);
    expect(audit.doubles).toEqual([]);
    expect(audit.outside).toEqual([]);
    expect(byEpoch.rows[0]!.n).toBeGreaterThan(FAULTS / 2);
    expect(outsideTerm.rows[0]!.n).toBe(0);
  });
});
