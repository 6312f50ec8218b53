// G1, G2 and G5 end to end, on real processes: `stratus sim` as the cloud, two `--role api`
// and two `--role worker` replicas on PostgreSQL and Redis. A careful client creates
// STRATUS_E2E_COUNT (default 300) resources of every registered kind through HTTP, spread over
// both API replicas; midway one API replica is frozen and SIGKILLed with requests in flight to
// it, and one worker while it holds leases. Then every accepted request must converge, each
// Idempotency-Key must name exactly one resource, and the simulator's audit must show at most
// one effect per client token and nothing accepted under an older fencing token. A third of
// every kind is then deleted, and the cloud must hold nothing of them. docs/testing.md says
// what this proves and what it does not.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/ha/db/database.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { builtinKinds } from '../../src/kinds/index.js';
import type { AuditSummary } from '../../src/sim/audit/summary.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { killAllStratus } from '../helpers/stratus-process.js';
import {
  auditViolations,
  backendMismatches,
  KEY_LABEL,
  keysWithoutOneResource,
  leftovers,
  type ResourceView,
  unansweredRequests,
  unconverged,
  unsucceeded,
} from './checks.js';
import { CarefulClient } from './client.js';
import { type Cluster, startCluster } from './cluster.js';
import { type Created, fixtureOf, leftOut, MAX_COUNT } from './fixtures.js';

/** Resources per kind (STRATUS_E2E_COUNT for a long run). */
const COUNT = Number(process.env.STRATUS_E2E_COUNT ?? 300);
/** Requests in flight at once: bounded so a loaded two-core machine keeps up. */
const CONCURRENCY = Number(process.env.STRATUS_E2E_CONCURRENCY ?? 12);
/** Share of all creates accepted before the API replica is killed, then the worker. */
const KILL_API_AT = 0.4;
const KILL_WORKER_AT = 0.6;
/** Every third resource of every kind is deleted. */
const deleted = (c: Created) => c.index % 3 === 0;

if (!(Number.isInteger(COUNT) && COUNT >= 3 && COUNT <= MAX_COUNT))
  throw new Error(`STRATUS_E2E_COUNT must be an integer from 3 to ${MAX_COUNT}`);

const kinds = builtinKinds.filter((k) => leftOut[k.name] === undefined);
// Before anything starts: a kind without a fixture fails here, naming it.
const fixtures = new Map(kinds.map((k) => [k.name, fixtureOf(k)]));

let t: TestDatabase;
let db: Database;
let cluster: Cluster;
let client: CarefulClient;
const redis = testRedisPrefix();
const run = Math.random().toString(36).slice(2, 10);
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  const startedAt = Date.now();
  t = await createTestDatabase();
  db = createPgDatabase({ connectionString: t.url, max: 2 });
  cluster = await startCluster({
    databaseUrl: t.url,
    redisUrl: REDIS_URL,
    redisPrefix: redis.prefix,
    apis: 2,
    workers: 2,
    env: {
      // A job whose message was lost with its worker is sent again after 5 s, not the default
      // 30 s: the run stays short, and duplicates of a message are harmless (the ledger).
      SWEEPER_GRACE_MS: '5000',
      // 8 s leases (default 4 s) and 16 jobs at once (default 50, leasing 100 ahead): on a
      // two-core machine running other suites beside this one (load average 26 measured), a
      // worker starved past its lease loses every lease it holds, each loss counts as an
      // attempt, and jobs that never ran were dead-lettered after 5 of them. The kill's
      // recovery is then bounded by 8 s instead of 4 s.
      JOB_LEASE_MS: '8000',
      QUEUE_VISIBILITY_TIMEOUT_MS: '8000',
      WORKER_CONCURRENCY: '16',
    },
  });
  client = new CarefulClient(
    cluster.replicas.filter((r) => r.role === 'api').map((r) => r.url!),
    { apiKey: cluster.apiKey },
  );
  figures.startMs = Date.now() - startedAt;
}, 150_000);

/** Jobs per attempt count and the last errors of retried jobs, from the ledger. */
async function ledgerFigures(): Promise<void> {
  const attempts = await db.query<{ attempt: number; jobs: number }>(
    'SELECT attempt, count(*)::int AS jobs FROM stratus_ledger GROUP BY attempt ORDER BY attempt',
  );
  figures.jobsByAttempt = Object.fromEntries(attempts.rows.map((r) => [r.attempt, r.jobs]));
  const errors = await db.query<{ error: string; jobs: number }>(
    `SELECT left(last_error, 100) AS error, count(*)::int AS jobs FROM stratus_ledger
       WHERE last_error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC`,
  );
  figures.lastErrors = Object.fromEntries(errors.rows.map((r) => [r.error, r.jobs]));
}

/** Warnings and errors the replicas logged, by message. */
function logFigures(): void {
  const counts: Record<string, number> = {};
  for (const r of cluster?.replicas ?? [])
    for (const line of r.process.logs)
      if (typeof line.level === 'number' && line.level >= 40) {
        const msg = `${r.role} ${String(line.msg)}${typeof line.err === 'string' ? `: ${line.err.slice(0, 80)}` : ''}`;
        counts[msg] = (counts[msg] ?? 0) + 1;
      }
  figures.replicaWarnings = counts;
}

afterAll(async () => {
  await killAllStratus();
  logFigures();
  if (db) await ledgerFigures();
  await db?.close();
  await t?.drop();
  await redis.cleanup();
  console.info(`e2e figures ${JSON.stringify(figures)}`);
});

/** Runs `fn(0 .. count - 1)` with at most CONCURRENCY at once. */
async function pool(count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, lane));
}

/** Every resource of `kind`, page by page. */
async function listAll(kind: string): Promise<ResourceView[]> {
  const items: ResourceView[] = [];
  let cursor: string | undefined;
  do {
    const query = `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const answer = await client.send('GET', `/v1/${kind}?${query}`);
    expect(answer.status).toBe(200);
    const page = answer.body as { items: ResourceView[]; nextCursor?: string };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The operations, each held until terminal (re-asked while still running). */
async function settle(ids: readonly string[]) {
  const ops: Array<{ id: string; state: string; error?: unknown }> = [];
  await pool(ids.length, async (i) => {
    for (;;) {
      const answer = await client.send('GET', `/v1/operations/${ids[i]}?wait=20s`);
      expect(answer.status).toBe(200);
      const op = answer.body as { id: string; state: string; error?: unknown };
      if (['succeeded', 'failed', 'superseded'].includes(op.state)) {
        ops.push(op);
        return;
      }
    }
  });
  return ops;
}

async function auditSummary(): Promise<AuditSummary> {
  return (await (await fetch(new URL('/audit/summary', cluster.simUrl))).json()) as AuditSummary;
}

/** Live leases per worker, from the ledger. */
async function liveLeases(): Promise<Map<string, string[]>> {
  const res = await db.query<{ owner: string; job_key: string }>(
    `SELECT owner, job_key FROM stratus_ledger WHERE state = 'running' AND lease_expires_at > now()`,
  );
  const held = new Map<string, string[]>();
  for (const row of res.rows) held.set(row.owner, [...(held.get(row.owner) ?? []), row.job_key]);
  return held;
}

describe('four replicas and stratus sim, with an api replica and a worker SIGKILLed midway', () => {
  it('converge with one resource per Idempotency-Key and an audit of one effect per client token', async () => {
    const apis = cluster.replicas.filter((r) => r.role === 'api');
    const workers = cluster.replicas.filter((r) => r.role === 'worker');
    const total = COUNT * kinds.length;
    const created: Record<string, Created[]> = {};
    const keys: Record<string, string[]> = {};
    const createOps: string[] = [];
    let accepted = 0;

    // --- the kills, started by the load's progress ---
    const victimApi = 0;
    let apiKill: Promise<{ at: number; inFlight: number }> | undefined;
    let workerKill: Promise<{ at: number; nodeId: string; held: string[] }> | undefined;
    // The api replica is frozen (SIGSTOP) first, so the requests sent to it stay in flight
    // until the SIGKILL: answered in a millisecond, they would otherwise all be done by the
    // time the signal lands, and the kill would only ever meet refused connections. Only
    // requests sent after the freeze count: one in flight at it may have its answer written
    // already, and end well after the kill.
    const killApi = async () => {
      const victim = apis[victimApi]!;
      const frozenAt = Date.now();
      victim.process.child.kill('SIGSTOP');
      await until(
        () => client.inFlightSince(victimApi, frozenAt) >= 2,
        20_000,
        'requests in flight to the frozen api replica',
      );
      const inFlight = client.inFlight[victimApi]!;
      return { at: await cluster.kill(victim), inFlight };
    };
    const killWorker = async () => {
      let held: [string, string[]] | undefined;
      await until(
        async () => {
          const leases = await liveLeases();
          held = [...leases].find(([owner]) => workers.some((w) => w.nodeId === owner));
          return held !== undefined;
        },
        20_000,
        'a worker holding leases',
      );
      const [nodeId, jobs] = held!;
      return { at: await cluster.kill(workers.find((w) => w.nodeId === nodeId)!), nodeId, held: jobs };
    };
    const progressed = () => {
      accepted++;
      if (!apiKill && accepted >= total * KILL_API_AT) apiKill = killApi();
      if (!workerKill && accepted >= total * KILL_WORKER_AT) workerKill = killWorker();
    };

    // --- the load: every kind in registry order (referenced kinds first) ---
    const loadStart = Date.now();
    for (const kind of kinds) {
      const fixture = fixtures.get(kind.name)!;
      const mine: Array<Created | undefined> = [];
      keys[kind.name] = [];
      await pool(COUNT, async (index) => {
        const key = `${run}-${kind.name}-${index}`;
        keys[kind.name]!.push(key);
        const { spec, labels } = fixture({ index, created });
        const body = { name: `e2e-${index}`, labels: { ...labels, [KEY_LABEL]: key }, spec };
        const answer = await client.send('POST', `/v1/${kind.name}`, { body, idempotencyKey: key });
        if (answer.status !== 202) return; // reported by the check below
        const { resource, operation } = answer.body as {
          resource: { id: string };
          operation: { id: string };
        };
        mine[index] = { id: resource.id, index };
        createOps.push(operation.id);
        progressed();
      });
      created[kind.name] = mine.filter((c) => c !== undefined);
    }
    const kills = { api: await apiKill, worker: await workerKill };
    figures.loadMs = Date.now() - loadStart;
    expect(kills.api, 'the api replica was killed').toBeDefined();
    expect(kills.worker, 'a worker was killed').toBeDefined();

    // G5: every create was answered 202 in the end, through the retries.
    expect(unansweredRequests(client.requests, (s) => s === 202)).toEqual([]);

    // The requests the api kill cut: sent to it before the kill, failed, answered elsewhere.
    const cut = client.requests.filter((r) =>
      r.attempts.some(
        (a) => a.replica === victimApi && a.failure !== undefined && a.startedAt <= kills.api!.at,
      ),
    );
    figures.apiKill = {
      inFlightAtKill: kills.api!.inFlight,
      cut: cut.length,
      replayed: cut.filter((r) => r.answer?.replayed).length,
      freshlyExecuted: cut.filter((r) => r.answer && !r.answer.replayed).length,
      retriedRequests: client.requests.filter((r) => r.attempts.length > 1).length,
    };
    expect(cut.length, 'requests in flight to the killed api replica were retried').toBeGreaterThan(0);

    // G1: everything converges, each key names one resource.
    const convergeStart = Date.now();
    const lists: Record<string, ResourceView[]> = {};
    for (const kind of kinds) {
      let problems: string[] = [];
      await until(
        async () => {
          lists[kind.name] = await listAll(kind.name);
          problems = unconverged(lists[kind.name]!);
          return problems.length === 0 && lists[kind.name]!.length === COUNT;
        },
        90_000,
        `every ${kind.name} Ready`,
        200,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${problems.slice(0, 10).join('; ')}`);
      });
      expect(keysWithoutOneResource(lists[kind.name]!, keys[kind.name]!)).toEqual([]);
      figures[`${kind.name}ReadyMs`] = Date.now() - convergeStart;
    }
    expect(unsucceeded(await settle(createOps))).toEqual([]);
    figures.convergeMs = Date.now() - convergeStart;
    const unfinished = await db.query(`SELECT job_key, state FROM stratus_ledger WHERE state <> 'completed'`);
    expect(unfinished.rows).toEqual([]);
    const takenOver = await db.query<{ owner: string }>(
      'SELECT owner FROM stratus_ledger WHERE job_key = ANY($1::text[])',
      [kills.worker!.held],
    );
    figures.workerKill = {
      nodeId: kills.worker!.nodeId,
      leasesHeld: kills.worker!.held.length,
      finishedByAnother: takenOver.rows.filter((r) => r.owner !== kills.worker!.nodeId).length,
    };

    // --- delete a third of every kind, referrers first ---
    const deleteStart = Date.now();
    const gone: ResourceView[] = [];
    for (const kind of [...kinds].reverse()) {
      const targets = lists[kind.name]!.filter((r) =>
        created[kind.name]!.some((c) => c.id === r.id && deleted(c)),
      );
      const ops: string[] = [];
      await pool(targets.length, async (i) => {
        const r = targets[i]!;
        const answer = await client.send('DELETE', `/v1/${kind.name}/${r.id}`, {
          idempotencyKey: `${r.labels[KEY_LABEL]}-delete`,
        });
        if (answer.status === 202) ops.push((answer.body as { operation: { id: string } }).operation.id);
      });
      expect(
        unansweredRequests(
          client.requests.filter((r) => r.method === 'DELETE'),
          (s) => s === 202,
        ),
      ).toEqual([]);
      expect(unsucceeded(await settle(ops))).toEqual([]);
      gone.push(...targets);
    }
    figures.deleteMs = Date.now() - deleteStart;

    const goneIds = new Set(gone.map((r) => r.id));
    const live: ResourceView[] = [];
    for (const kind of kinds) {
      const now = await listAll(kind.name);
      expect(now.filter((r) => goneIds.has(r.id))).toEqual([]);
      expect(unconverged(now)).toEqual([]);
      live.push(...now);
    }
    expect(live.length).toBe(total - gone.length);

    // The cloud holds nothing of the deleted resources, and exactly what the live ones need.
    const truth: unknown = await (await fetch(new URL('/truth', cluster.simUrl))).json();
    expect(leftovers(truth, gone)).toEqual([]);
    expect(backendMismatches(truth, live)).toEqual([]);

    // G2: at most one effect per client token, none under an older fencing token.
    const summary = await auditSummary();
    figures.audit = {
      calls: summary.calls,
      outcomes: summary.outcomes,
      staleRefusals: summary.staleRefusals,
    };
    expect(auditViolations(summary)).toEqual([]);
    // Not vacuous: every create (and every delete) of a resource with a backend object reached
    // the cloud. Kinds of the control plane alone (cron jobs, a group's own record) have none.
    const backed = (r: ResourceView) =>
      Object.entries(r.status.outputs ?? {}).some(([k, v]) => /backendId$/i.test(k) && typeof v === 'string');
    const owed = live.filter(backed).length + 2 * gone.filter(backed).length;
    expect(owed).toBeGreaterThan(total / 2);
    expect(summary.outcomes.created ?? 0).toBeGreaterThanOrEqual(owed);
  }, 300_000);
});
