// The controller framework with in-process leadership: passes run only while the term is held,
// on election, on a relevant event and again at once while a pass says `more`; a failing pass
// is counted and retried; a deposed leader's report never overwrites its successor's.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineController,
  type PassContext,
  type PassResult,
} from '../../src/controllers/framework/define.js';
import { controllerGuard, MAX_PASS_CHANGES } from '../../src/controllers/framework/guard.js';
import { createControllerMetrics } from '../../src/controllers/framework/metrics.js';
import { listControllerStatus, recordPass } from '../../src/controllers/framework/status.js';
import { manualWake } from '../../src/controllers/framework/wake.js';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { silentLogger } from '../../src/ha/leader/port.js';
import { migrations } from '../../src/migrations/index.js';
import { openTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';

const keys = new LeaderKeyRegistry();
let db: Database;
let dispose: () => Promise<void>;

beforeAll(async () => {
  ({ db, dispose } = await openTestDatabase('pglite'));
  await migrate(db, migrations);
});
afterAll(() => dispose());

/** A controller whose passes the test scripts, one answer per pass. */
function scripted(name: string, id: number, answers: Array<PassResult | Error>) {
  const seen: PassContext[] = [];
  const def = defineController({
    name,
    leaderKey: keys.register(name, id),
    resyncMs: 3_600_000,
    wakeOnKinds: ['instances'],
    async pass(ctx) {
      seen.push(ctx);
      const next = answers.shift() ?? {};
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { def, seen };
}

describe('controllerGuard', () => {
  it('passes on election, on a relevant wake, at once while `more`, and never after the term is lost', async () => {
    const space = new MemoryLeadership();
    const elector = new MemoryElector('node-a', space, db);
    const wake = manualWake();
    const { def, seen } = scripted('scripted-a', 1, [{}, { more: true }, { lagMs: 7 }]);
    const registry = new Registry();
    const stop = new AbortController();
    const guard = controllerGuard(def, {
      db,
      elector,
      wake,
      logger: silentLogger,
      metrics: createControllerMetrics(registry),
      clock: () => 1_000_000,
    });
    const running = guard.start(stop.signal);
    await until(() => seen.length === 1, 5_000, 'the first pass');
    wake.fire(['networks']);
    // Not woken by another kind: a wake of ours runs two passes (the second said more).
    wake.fire(['instances']);
    await until(() => seen.length === 3, 5_000, 'the woken passes');
    expect(seen.map((c) => c.epoch)).toEqual([1, 1, 1]);
    // A wake naming a kind but no resources gives nothing to scope to: the pass is full.
    expect(seen[1]!.changes).toBeUndefined();
    const [status] = await listControllerStatus(db);
    expect(status).toMatchObject({
      name: 'scripted-a',
      leader: 'node-a',
      epoch: 1,
      passes: 3,
      errors: 0,
      lagMs: 7,
    });
    // Deposed: the pass in hand sees its signal abort; the next term passes with its epoch.
    space.revoke(def.leaderKey.id);
    expect(seen[2]!.signal.aborted).toBe(true);
    await until(() => seen.length === 4, 5_000, 'a pass of the next term');
    expect(seen[3]!.epoch).toBe(2);
    await expect(seen[2]!.fenced(async () => 'written')).rejects.toMatchObject({ code: 'STALE_EPOCH' });
    stop.abort();
    await running;
    await elector.close();
    const metrics = await registry.getSingleMetricAsString('stratus_controller_passes_total');
    expect(metrics).toContain('controller="scripted-a",outcome="ok"} 4');
  });

  it('after the full pass a wake with no resources led to, waits for the next wake (no pass after pass)', async () => {
    const elector = new MemoryElector('node-f', new MemoryLeadership(), db);
    const wake = manualWake();
    const passes: string[] = [];
    const def = defineController({
      name: 'quiet',
      leaderKey: keys.register('quiet', 6),
      resyncMs: 3_600_000,
      wakeOnKinds: ['instances'],
      async pass(ctx) {
        passes.push(ctx.changes ? `scoped ${[...ctx.changes.byKind.get('instances')!].join(',')}` : 'full');
        return {};
      },
    });
    const stop = new AbortController();
    const running = controllerGuard(def, { db, elector, wake, logger: silentLogger }).start(stop.signal);
    await until(() => passes.length === 1, 5_000, 'the first pass');
    wake.fire(['instances']);
    await until(() => passes.length >= 2, 5_000, 'the woken pass');
    // Long enough for a loop to show: a round trip to the database.
    await db.query('SELECT 1');
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-7' }]);
    await until(() => passes.includes('scoped i-7'), 5_000, 'the change');
    expect(passes).toEqual(['full', 'full', 'scoped i-7']);
    stop.abort();
    await running;
    await elector.close();
  });

  it('counts a failing pass, retries it, and keeps the last error', async () => {
    const elector = new MemoryElector('node-b', new MemoryLeadership(), db);
    const { def, seen } = scripted('scripted-b', 2, [new Error('backend down'), {}]);
    const stop = new AbortController();
    const running = controllerGuard(def, { db, elector, logger: silentLogger }).start(stop.signal);
    await until(() => seen.length === 2, 5_000, 'the retry');
    await until(async () =>
      (await listControllerStatus(db)).some((s) => s.name === 'scripted-b' && s.passes === 2),
    );
    const status = (await listControllerStatus(db)).find((s) => s.name === 'scripted-b');
    expect(status).toMatchObject({ passes: 2, errors: 1, lastError: 'backend down' });
    stop.abort();
    await running;
    await elector.close();
  });

  it('gives a woken pass the changes since the last one began, and a full pass first, after a failure, on overflow and at resync', async () => {
    const elector = new MemoryElector('node-c', new MemoryLeadership(), db);
    const wake = manualWake();
    let now = 1_000_000;
    const { def, seen } = scripted('scripted-c', 3, [
      {},
      {},
      new Error('backend down'),
      {},
      {},
      {},
      {},
      {},
      {},
    ]);
    const reports: boolean[] = [];
    const stop = new AbortController();
    const running = controllerGuard(def, {
      db,
      elector,
      wake,
      logger: silentLogger,
      clock: () => now,
      onPass: (r) => reports.push(r.scoped),
    }).start(stop.signal);
    await until(() => seen.length === 1, 5_000, 'the first pass');
    expect(seen[0]!.changes).toBeUndefined();
    // Woken: the instances that changed and their owners; a kind it does not watch is left out.
    wake.fire(
      ['instances'],
      [
        { kind: 'instances', id: 'i-1', owner: 'g-1' },
        { kind: 'networks', id: 'n-1' },
        { kind: 'instances', id: 'i-2' },
      ],
    );
    await until(() => seen.length === 2, 5_000, 'the woken pass');
    expect([...seen[1]!.changes!.byKind.entries()].map(([k, v]) => [k, [...v]])).toEqual([
      ['instances', ['i-1', 'i-2']],
    ]);
    expect([...seen[1]!.changes!.owners]).toEqual(['g-1']);
    // The next woken pass fails; its retry is full.
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-3' }]);
    await until(() => seen.length === 3, 5_000, 'the failing pass');
    expect([...seen[2]!.changes!.byKind.get('instances')!]).toEqual(['i-3']);
    await until(() => seen.length === 4, 5_000, 'the retry');
    expect(seen[3]!.changes).toBeUndefined();
    // More changes than a pass is given: full.
    wake.fire(
      ['instances'],
      Array.from({ length: MAX_PASS_CHANGES + 1 }, (_, i) => ({ kind: 'instances', id: `i-x${i}` })),
    );
    await until(() => seen.length === 5, 5_000, 'the overflowed pass');
    expect(seen[4]!.changes).toBeUndefined();
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-5' }]);
    await until(() => seen.length === 6, 5_000, 'a scoped pass again');
    expect([...seen[5]!.changes!.byKind.get('instances')!]).toEqual(['i-5']);
    // The last full pass is resyncMs old: a woken pass is full, and the change that woke it
    // still gets a scoped pass right after (this controller does not yield to changes).
    now += 3_600_000;
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-6' }]);
    await until(() => seen.length >= 8, 5_000, 'the resync and the change after it');
    expect(seen[6]!.changes).toBeUndefined();
    expect([...seen[7]!.changes!.byKind.get('instances')!]).toEqual(['i-6']);
    expect(reports.slice(0, 8)).toEqual([false, true, true, false, false, true, false, true]);
    stop.abort();
    await running;
    await elector.close();
  });

  it('a full pass that yields between pages serves the changes heard meanwhile at once, scoped', async () => {
    const elector = new MemoryElector('node-d', new MemoryLeadership(), db);
    const wake = manualWake();
    const log: string[] = [];
    let releasePage: (() => void) | undefined;
    let full = 0;
    const def = defineController({
      name: 'paged',
      leaderKey: keys.register('paged', 4),
      resyncMs: 3_600_000,
      wakeOnKinds: ['instances'],
      async pass(ctx) {
        if (ctx.changes) {
          log.push(`scoped ${[...ctx.changes.byKind.get('instances')!].join(',')}`);
          return {};
        }
        full++;
        log.push('page 1');
        // Nothing waiting: yielding runs nothing.
        await ctx.yieldToChanges!();
        if (full === 1) await new Promise<void>((resolve) => (releasePage = resolve));
        await ctx.yieldToChanges!();
        log.push('page 2');
        return {};
      },
    });
    const stop = new AbortController();
    const running = controllerGuard(def, { db, elector, wake, logger: silentLogger }).start(stop.signal);
    await until(() => releasePage !== undefined, 5_000, 'the full pass at its first page');
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-9' }]);
    releasePage!();
    await until(() => log.length === 3, 5_000, 'the pass done');
    expect(log).toEqual(['page 1', 'scoped i-9', 'page 2']);
    stop.abort();
    await running;
    await elector.close();
  });

  it('a full pass serves the changes heard while its work runs beside it, and returns what the work gave', async () => {
    const elector = new MemoryElector('node-e', new MemoryLeadership(), db);
    const wake = manualWake();
    const log: string[] = [];
    let finishRead: ((rows: number) => void) | undefined;
    let full = 0;
    const def = defineController({
      name: 'reading',
      leaderKey: keys.register('reading', 5),
      resyncMs: 3_600_000,
      wakeOnKinds: ['instances'],
      async pass(ctx) {
        if (ctx.changes) {
          log.push(`scoped ${[...ctx.changes.byKind.get('instances')!].join(',')}`);
          return {};
        }
        if (++full > 1) return {};
        log.push('read');
        const rows = await ctx.serveChangesWhile!(new Promise<number>((resolve) => (finishRead = resolve)));
        log.push(`read ${rows}`);
        return {};
      },
    });
    const stop = new AbortController();
    const running = controllerGuard(def, { db, elector, wake, logger: silentLogger }).start(stop.signal);
    await until(() => finishRead !== undefined, 5_000, 'the full pass reading');
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-1' }]);
    await until(() => log.length === 2, 5_000, 'the first change served');
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-2' }]);
    await until(() => log.length === 3, 5_000, 'the second change served');
    // Both while the read has not ended.
    expect(log).toEqual(['read', 'scoped i-1', 'scoped i-2']);
    finishRead!(42);
    await until(() => log.length === 4, 5_000, 'the pass done');
    expect(log[3]).toBe('read 42');
    // A change heard after the work ended waits for a pass of its own.
    wake.fire(['instances'], [{ kind: 'instances', id: 'i-3' }]);
    await until(() => log.length === 5, 5_000, 'the change after');
    expect(log[4]).toBe('scoped i-3');
    stop.abort();
    await running;
    await elector.close();
  });

  it("ignores a deposed term's report once its successor reported", async () => {
    const base = { controller: 'reports', startedAt: 1, endedAt: 2, lagMs: 0, error: undefined };
    await recordPass(db, { ...base, leader: 'new', epoch: 5 });
    await recordPass(db, { ...base, leader: 'old', epoch: 4, error: 'late' });
    const status = (await listControllerStatus(db)).find((s) => s.name === 'reports');
    expect(status).toMatchObject({ leader: 'new', epoch: 5, passes: 1, errors: 0, lastError: null });
  });
});
