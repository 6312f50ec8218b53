// Cron exactly once across failovers, with real processes: a `stratus sim` and three
// `stratus start --role worker` replicas sharing it; two cron jobs fire every second (one
// catching up missed slots, one skipping them); the cron leader is killed (SIGKILL, and
// SIGSTOP with SIGCONT once a successor leads) 20 times, each close to a slot. Then the audit:
// every slot fired once (no record twice, no delivery twice in the simulator's audit), none
// missing except what the skip policy allows while no leader ran.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditedJob, cronViolations } from '../../src/controllers/cron/audit.js';
import { readCronDowntime, readCronSlots } from '../../src/controllers/cron/read-audit.js';
import { slotToken } from '../../src/controllers/cron/slots.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { migrations } from '../../src/migrations/index.js';
import { controlPlaneKeys } from '../../src/runtime/leader-keys.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_FAILOVER_ENV, leaderOf } from '../helpers/failover.js';
import { until } from '../helpers/poll.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const SLOT_MS = 1_000;
const FAULTS = 20;
const KEY_ID = controlPlaneKeys.cron.id;

describe('cron across leader failovers (real processes)', () => {
  let t: TestDatabase;
  let db: Database;
  let sim: StratusProcess;
  let simUrl = '';
  const replicas = new Map<string, StratusProcess>();
  const everyLog: Array<Record<string, unknown>>[] = [];
  let spawned = 0;

  const spawn = () => {
    const nodeId = `cron-${++spawned}`;
    const p = spawnStratus(['start', '--role', 'worker', '--node-id', nodeId], {
      DATABASE_URL: t.url,
      CLOUD_URL: simUrl,
      LOG_LEVEL: 'info',
      CRON_RESYNC_MS: '500',
      ...FAST_FAILOVER_ENV,
    });
    replicas.set(nodeId, p);
    everyLog.push(p.logs);
    void p.exited.then(() => replicas.delete(nodeId));
    return p;
  };
  const leader = () => leaderOf(db, KEY_ID);
  const addJob = async (spec: Record<string, unknown>) => {
    const id = `cron_${randomUUID().slice(0, 8)}`;
    const res = await db.query<{ created: number }>(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       VALUES ($1, 't1', 'cron-jobs', $1, $2::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'))
       RETURNING (extract(epoch FROM created_at) * 1000)::double precision AS created`,
      [id, JSON.stringify(spec)],
    );
    return { id, created: Number(res.rows[0]!.created) };
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 3 });
    await migrate(db, migrations);
    sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast']);
    simUrl = (await sim.waitForLog((r) => typeof r.url === 'string')).url as string;
  });
  afterAll(async () => {
    for (const p of replicas.values()) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    await Promise.all([...replicas.values()].map((p) => p.exited));
    sim?.child.kill('SIGTERM');
    await sim?.exited;
    await db?.close();
    await t?.drop();
  });

  it('fires each slot once, with no gaps beyond the policy, after 20 kills and hangs of the leader around slots', {
    timeout: 180_000,
  }, async () => {
    for (let i = 0; i < 3; i++) spawn();
    await Promise.all(
      [...replicas.values()].map((r) =>
        r.waitForLog((l) => l.msg === 'stopped' || String(l.msg).startsWith('stratus ready'), 90_000),
      ),
    );
    // The jobs come once a leader runs: slots due before the first term are missed by the
    // policy too, and the audit below counts downtime only between terms.
    await until(async () => (await leader()) !== undefined, 10_000, 'a first cron leader');
    const target = { method: 'POST', url: 'https://hooks.test/tick', body: '{"hello":"cron"}' };
    const catchUp = await addJob({ schedule: '* * * * * *', target, missedSlots: 'catch-up', maxCatchUp: 5 });
    const skip = await addJob({ schedule: '* * * * * *', timeZone: 'Europe/Berlin', target });
    const faults: Array<{ signal: string; holder: string; epoch: number; atMs: number }> = [];
    const started = Date.now();
    for (let i = 0; i < FAULTS; i++) {
      const before = (await leader())!;
      const p = replicas.get(before.holder);
      expect(p, `leader ${before.holder} is one of ours`).toBeDefined();
      // Just before or just after the next slot, alternately (±60 ms, jittered).
      const next = Math.ceil(Date.now() / SLOT_MS) * SLOT_MS;
      const slot = next - Date.now() > 150 ? next : next + SLOT_MS;
      const at = slot + (i % 4 < 2 ? -60 : 60) + Math.floor(Math.random() * 40) - 20;
      await until(() => Date.now() >= at, 5_000, 'the slot', 2);
      const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGSTOP';
      p!.child.kill(signal);
      faults.push({ signal, holder: before.holder, epoch: before.epoch, atMs: Date.now() });
      await until(
        async () =>
          ((await leader())?.epoch ?? 0) > before.epoch && (await leader())?.holder !== before.holder,
        15_000,
        `a successor after ${signal} of ${before.holder}`,
      );
      if (signal === 'SIGSTOP') p!.child.kill('SIGCONT');
      if (signal === 'SIGKILL') spawn();
    }
    const faultsMs = Date.now() - started;
    // Judge up to a slot the live leader has fired and finished.
    const end = Math.floor(Date.now() / SLOT_MS) * SLOT_MS;
    await until(
      async () => {
        const res = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM stratus_cron_cursors
           WHERE decided_to >= to_timestamp($1 / 1000.0)
             AND NOT EXISTS (SELECT 1 FROM stratus_cron_slots WHERE state = 'pending' AND slot <= to_timestamp($1 / 1000.0))`,
          [end],
        );
        return res.rows[0]!.n === 2;
      },
      20_000,
      'cron to catch up',
      50,
    );
    // Each successor's term began when it bumped the epoch: slots between the last one an
    // earlier term recorded and then came due while no controller ran.
    const journal = await db.query<{ epoch: number; acquired: number }>(
      `SELECT epoch, (extract(epoch FROM acquired_at) * 1000)::double precision AS acquired
       FROM stratus_leadership_journal WHERE key_id = $1 ORDER BY epoch`,
      [KEY_ID],
    );
    const slots = await readCronSlots(db);
    const downtime = await readCronDowntime(db, KEY_ID);
    const audit = await fetch(new URL('/audit?backend=webhook&op=deliver&outcome=created', simUrl));
    const deliveries = ((await audit.json()) as { entries: { clientToken: string }[] }).entries;
    const jobs: AuditedJob[] = [
      {
        id: catchUp.id,
        schedule: '* * * * * *',
        missedSlots: 'catch-up',
        maxCatchUp: 5,
        from: catchUp.created,
      },
      { id: skip.id, schedule: '* * * * * *', timeZone: 'Europe/Berlin', from: skip.created },
    ];
    const verdict = cronViolations(slots, jobs, { until: end, downtime }, deliveries);
    const summary = await (await fetch(new URL('/audit/summary', simUrl))).json();
    const refusedStale = (summary as { staleRefusals: number }).staleRefusals;
    // Up to `end` only: a later slot may be recorded with its call still in flight as it is read.
    const failed = slots.filter((s) => s.slot <= end && s.state !== 'succeeded').length;
    const byEpoch = new Set(
      (await db.query<{ epoch: number }>('SELECT DISTINCT epoch FROM stratus_cron_slots')).rows.map(
        (r) => r.epoch,
      ),
    );
    console.info(
      `cron failover: ${faults.length} faults (${faults.filter((f) => f.signal === 'SIGKILL').length} SIGKILL) in ${faultsMs} ms, ` +
        `${verdict.owed} slots owed, ${slots.length} recorded, ${deliveries.length} delivered, ${byEpoch.size} epochs recorded, ` +
        `${verdict.excused} skipped by policy, ${refusedStale} stale calls refused, ${failed} not succeeded, ` +
        `gaps ${verdict.gaps.length}, doubles ${verdict.doubles.length}, unexpected ${verdict.unexpected.length}`,
    );
    // A gap is shown with the terms around it, to tell a missed slot from a mis-drawn downtime.
    const iso = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString());
    for (const g of verdict.gaps)
      console.info(
        `gap ${g.jobId} ${iso(g.slot)}: terms ${journal.rows
          .map((j) => `${j.epoch}@${iso(Number(j.acquired))}`)
          .join(' ')}; downtime ${downtime.map(([a, b]) => `${iso(a)}..${iso(b)}`).join(' ')}`,
      );
    expect(faults).toHaveLength(FAULTS);
    expect(verdict.owed).toBeGreaterThan(2 * (faultsMs / SLOT_MS) * 0.9);
    expect(verdict.gaps).toEqual([]);
    expect(verdict.doubles).toEqual([]);
    expect(verdict.unexpected).toEqual([]);
    expect(failed).toBe(0);
    // Judged up to `end`: the live leader goes on firing slots while the audit is read.
    const judged = slots.filter((s) => s.slot <= end);
    const judgedTokens = new Set(judged.map((s) => slotToken(s.jobId, s.slot)));
    expect(deliveries.filter((d) => judgedTokens.has(d.clientToken)).length).toBe(judged.length);
    expect(byEpoch.size).toBeGreaterThan(FAULTS / 2);
  });
});
