import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { enqueueBatch } from '../../src/ha/outbox/outbox.js';
import type { NewJob } from '../../src/ha/worker/envelope.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const WORKER_FILE = new URL('../worker/job-worker.ts', import.meta.url).pathname;

/** What a worker child reports on stdout. */
export interface ChildEvent {
  event: 'ready' | 'started' | 'effect' | 'stopped';
  nodeId: string;
  key?: string;
  attempt?: number;
  effect?: boolean;
  /** Receipt time in the test process. */
  at: number;
}

export interface WorkerChild {
  readonly nodeId: string;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** Spawns worker children and collects their events; `killAll` ends every child it started. */
export class WorkerFleet {
  readonly events: ChildEvent[] = [];
  readonly #children = new Set<WorkerChild>();
  readonly #listeners = new Set<() => void>();

  constructor(private readonly env: { DATABASE_URL: string; REDIS_URL: string; QUEUE_PREFIX: string }) {}

  spawn(nodeId: string, extra: Record<string, string> = {}): WorkerChild {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_FILE], {
      env: { ...process.env, ...this.env, NODE_ID: nodeId, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push({ ...(JSON.parse(line) as Omit<ChildEvent, 'at'>), at: Date.now() });
      } catch {
        return;
      }
      for (const l of this.#listeners) l();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (process.env.STRATUS_TEST_VERBOSE) process.stderr.write(chunk);
    });
    const handle: WorkerChild = {
      nodeId,
      process: child,
      exited,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
    this.#children.add(handle);
    void exited.then(() => this.#children.delete(handle));
    return handle;
  }

  /** Resolves with the first event matching `match` (already received or future), or rejects at the deadline. */
  waitFor(match: (e: ChildEvent) => boolean, timeoutMs: number, what: string): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      const listener = () => {
        check();
      };
      if (check()) return;
      this.#listeners.add(listener);
    });
  }

  async ready(child: WorkerChild, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(
      (e) => e.event === 'ready' && e.nodeId === child.nodeId,
      timeoutMs,
      `${child.nodeId} ready`,
    );
  }

  async killAll(): Promise<void> {
    const all = [...this.#children];
    for (const c of all) c.kill('SIGKILL');
    await Promise.all(all.map((c) => c.exited));
  }
}

/** A fresh database with every migration and the fake backend's tables. */
export async function jobsDatabase(): Promise<{ t: TestDatabase; db: Database }> {
  const t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url, max: 4 });
  await migrate(db, migrations);
  await db.exec(`
    CREATE TABLE fake_effects (
      client_token  text PRIMARY KEY,
      fencing_token bigint NOT NULL,
      node          text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE TABLE fake_audit (
      id            bigserial PRIMARY KEY,
      client_token  text NOT NULL,
      fencing_token bigint NOT NULL,
      node          text NOT NULL,
      attempt       integer NOT NULL,
      effect        boolean NOT NULL,
      at            timestamptz NOT NULL DEFAULT clock_timestamp()
    );`);
  return { t, db };
}

/** Enqueues jobs through the outbox, `perTx` per transaction. */
export async function enqueueJobs(db: Database, jobs: readonly NewJob[], perTx = 200): Promise<void> {
  for (let i = 0; i < jobs.length; i += perTx) {
    await db.transaction((tx) => enqueueBatch(tx, jobs.slice(i, i + perTx)));
  }
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Tally {
  ledger: Record<string, number>;
  effects: number;
  calls: number;
  /** Keys with more than one effect: always 0 when the backend honours client tokens. */
  keysWithTwoEffects: number;
  /** Keys whose accepted calls did not come with growing fencing tokens. */
  tokenRegressions: number;
  outboxUnfinished: number;
}

/** Counts what the ledger, the fake backend's audit and the outbox say. */
export async function tally(db: Database): Promise<Tally> {
  const ledger = await db.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM stratus_ledger GROUP BY state',
  );
  const counts = await db.query<{ effects: number; calls: number; doubles: number; regressions: number }>(`
    SELECT (SELECT count(*)::int FROM fake_effects) AS effects,
           (SELECT count(*)::int FROM fake_audit) AS calls,
           (SELECT count(*)::int FROM (SELECT client_token FROM fake_audit WHERE effect
              GROUP BY client_token HAVING count(*) > 1) d) AS doubles,
           (SELECT count(*)::int FROM (SELECT fencing_token < lag(fencing_token) OVER w AS back
              FROM fake_audit WINDOW w AS (PARTITION BY client_token ORDER BY id)) r WHERE back) AS regressions`);
  const outbox = await db.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM stratus_outbox o
    LEFT JOIN stratus_ledger l ON l.job_key = o.job_key
    WHERE l.state IS DISTINCT FROM 'completed'`);
  const c = counts.rows[0]!;
  return {
    ledger: Object.fromEntries(ledger.rows.map((r) => [r.state, r.n])),
    effects: c.effects,
    calls: c.calls,
    keysWithTwoEffects: c.doubles,
    tokenRegressions: c.regressions,
    outboxUnfinished: outbox.rows[0]!.n,
  };
}
