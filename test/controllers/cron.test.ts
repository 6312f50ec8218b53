// The cron pass against a real database, an injected clock, in-process leadership and the
// simulated webhook port: each slot recorded before its call; a slot left pending by a leader
// whose call failed is retried by its successor with the same client token and delivered once;
// a deposed leader's pass refused by the fence and its late call by the fencing token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cronViolations } from '../../src/controllers/cron/audit.js';
import { cronController } from '../../src/controllers/cron/controller.js';
import { readCronSlots } from '../../src/controllers/cron/read-audit.js';
import { slotToken } from '../../src/controllers/cron/slots.js';
import type { PassContext } from '../../src/controllers/framework/define.js';
import { isStaleFencingTokenError, UnavailableError } from '../../src/core/errors/backend-errors.js';
import type { WebhookPort } from '../../src/core/ports/webhook.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { migrations } from '../../src/migrations/index.js';
import { createSimBackends } from '../../src/sim/index.js';
import { openTestDatabase } from '../helpers/db.js';

const S = 10_000;
const key = new LeaderKeyRegistry().register('cron', 111);

describe('the cron pass', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let space: MemoryLeadership;
  let elector: MemoryElector;
  const sim = createSimBackends();
  /** What the webhook saw recorded at each call, and the calls to fail once. */
  const recordedAtCall: string[] = [];
  const failOnce = new Set<string>();
  const webhook: WebhookPort = {
    ping: (o) => sim.webhook.ping(o),
    async deliver(call, options) {
      const row = await db.query<{ state: string }>(
        'SELECT state FROM stratus_cron_slots WHERE client_token = $1',
        [options.clientToken],
      );
      recordedAtCall.push(`${options.clientToken}:${row.rows[0]?.state ?? 'none'}`);
      if (failOnce.delete(options.clientToken)) throw new UnavailableError('the endpoint is down');
      return sim.webhook.deliver(call, options);
    },
  };
  const controller = cronController({ leaderKey: key, webhook });
  let now = 0;
  /** A slot boundary a minute ahead of the real clock: terms begin before every slot used. */
  let T = 0;
  const ctxOf = (term: LeaderTerm): PassContext => ({
    signal: term.signal,
    term,
    epoch: term.epoch,
    now: () => now,
    db,
    fenced: (fn) => fencedTransaction(db, term, fn),
  });

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('pg'));
    await migrate(db, migrations);
    space = new MemoryLeadership();
    elector = new MemoryElector('node-a', space, db);
    T = Math.ceil(Date.now() / S) * S + 6 * S;
  });
  afterAll(async () => {
    await elector.close();
    await dispose();
  });

  it('records each slot before its call, retries a pending one under the successor with the same token, and fires nothing twice', async () => {
    const spec = { schedule: '*/10 * * * * *', target: { method: 'POST', url: 'https://hooks.test/a' } };
    await db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version, created_at, updated_at)
       VALUES ('cron_a', 't1', 'cron-jobs', 'a', $1::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'), $2, $2)`,
      [JSON.stringify(spec), new Date(T)],
    );
    const t1 = await elector.campaign(key, new AbortController().signal);
    now = T + 3 * S + 500;
    failOnce.add(slotToken('cron_a', T + 3 * S));
    const first = await controller.pass(ctxOf(t1));
    // One call is left pending, 0.5 s after its slot; the next slot is 9.5 s away.
    expect(first).toEqual({ more: false, lagMs: 500, nextInMs: S - 500 });
    // Every call found its slot recorded (pending) before it was made.
    expect(recordedAtCall).toEqual([1, 2, 3].map((n) => `${slotToken('cron_a', T + n * S)}:pending`));
    const after1 = await readCronSlots(db);
    expect(after1.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'pending']);

    // The leader goes away; its successor retries the pending slot, then fires the next ones.
    space.revoke(key.id);
    const t2 = await elector.campaign(key, new AbortController().signal);
    now = T + 5 * S + 1;
    await controller.pass(ctxOf(t2));
    const slots = await readCronSlots(db);
    expect(slots.map((s) => s.state)).toEqual(Array(5).fill('succeeded'));
    const retried = await db.query<{
      epoch: number;
      last_epoch: number;
      attempts: number;
      error: string | null;
    }>('SELECT epoch, last_epoch, attempts, error FROM stratus_cron_slots WHERE slot = $1', [
      new Date(T + 3 * S),
    ]);
    expect(retried.rows[0]).toMatchObject({ attempts: 2, error: null });
    expect(Number(retried.rows[0]!.epoch)).toBe(t1.epoch);
    expect(Number(retried.rows[0]!.last_epoch)).toBe(t2.epoch);

    // The deposed leader wakes up: its pass is refused by the fence, its late call by the token.
    await expect(controller.pass(ctxOf(t1))).rejects.toSatisfy(isStaleEpochError);
    const late = await sim.webhook
      .deliver(
        { ...spec.target, method: 'POST', source: 'cron-jobs/cron_a' },
        { clientToken: 'late', fencingToken: t1.epoch },
      )
      .catch((e: unknown) => e);
    expect(isStaleFencingTokenError(late)).toBe(true);

    const delivered = sim.cloud.auditLog.query({ backend: 'webhook', op: 'deliver', outcome: 'created' });
    const verdict = cronViolations(
      slots,
      [{ id: 'cron_a', schedule: spec.schedule, from: T }],
      { until: now },
      delivered,
    );
    expect(verdict).toMatchObject({ gaps: [], doubles: [], unexpected: [], owed: 5 });
    expect(delivered).toHaveLength(5);
    space.revoke(key.id);
  });

  it('skips the slots missed before a term began, or catches up the last maxCatchUp of them', async () => {
    const spec = (policy: object) => ({
      schedule: '*/10 * * * * *',
      target: { method: 'GET', url: 'https://hooks.test/b' },
      ...policy,
    });
    const created = T + 10 * S;
    for (const [id, policy] of [
      ['cron_skip', {}],
      ['cron_catch', { missedSlots: 'catch-up', maxCatchUp: 2 }],
    ] as const)
      await db.query(
        `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version, created_at, updated_at)
         VALUES ($1, 't1', 'cron-jobs', $1, $2::jsonb, '{}'::jsonb, 1, nextval('stratus_resource_version_seq'), $3, $3)`,
        [id, JSON.stringify(spec(policy)), new Date(created)],
      );
    await db.query("DELETE FROM stratus_resources WHERE id = 'cron_a'");
    space.revoke(key.id);
    const t3 = await elector.campaign(key, new AbortController().signal);
    // The term began (by its acquiredAt) before `created`; pretend it began after 4 slots came due.
    const began = new Date(created + 4 * S + 100);
    const ctx = ctxOf(
      new Proxy(t3, {
        get: (term, p) => {
          if (p === 'acquiredAt') return began;
          const v = Reflect.get(term, p, term);
          return typeof v === 'function' ? v.bind(term) : v;
        },
      }),
    );
    now = created + 5 * S + 1;
    await controller.pass(ctx);
    const rows = (await readCronSlots(db)).filter((s) => s.jobId !== 'cron_a');
    const of = (id: string) =>
      rows
        .filter((r) => r.jobId === id)
        .map((r) => (r.slot - created) / S)
        .sort();
    expect(of('cron_skip')).toEqual([5]);
    expect(of('cron_catch')).toEqual([3, 4, 5]);
    const cursors = await db.query<{ id: string; skipped: number }>(
      'SELECT cron_job_id AS id, skipped::int FROM stratus_cron_cursors ORDER BY 1',
    );
    expect(Object.fromEntries(cursors.rows.map((r) => [r.id, r.skipped]))).toMatchObject({
      cron_catch: 2,
      cron_skip: 4,
    });
  });
});
