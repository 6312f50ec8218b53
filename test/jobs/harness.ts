import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Database } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import type { NewJob } from '../../src/ha/job/envelope.js';
import { enqueueBatch } from '../../src/ha/outbox/outbox.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until as poll } from '../helpers/poll.js';
import { type AuditReport, auditReport, createFakeBackendSchema } from './fake-backend.js';

const WORKER_FILE = new URL('../worker/job-worker.ts', import.meta.url).pathname;

/** What a worker child reports on stdout. */
export interface ChildEvent {
  event: 'ready' | 'started' | 'effect' | 'observed' | 'zombie-call' | 'stopped';
  nodeId: string;
  key?: string;
  attempt?: number;
  /** `effect`: this attempt created the effect (false: observe found it made already). */
  effect?: boolean;
  /** `zombie-call`: the backend acted on the call. */
  accepted?: boolean;
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

/** A fresh database with every migration and the fake backend's audit table. */
export async function jobsDatabase(): Promise<{ t: TestDatabase; db: Database }> {
  const t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url, max: 4 });
  await migrate(db, migrations);
  await createFakeBackendSchema(db);
  return { t, db };
}

/** Enqueues jobs through the outbox, `perTx` per transaction. */
export async function enqueueJobs(db: Database, jobs: readonly NewJob[], perTx = 200): Promise<void> {
  for (let i = 0; i < jobs.length; i += perTx) {
    await db.transaction((tx) => enqueueBatch(tx, jobs.slice(i, i + perTx)));
  }
}

/** Polls every 100 ms: these checks read the database and Redis of several processes. */
export const until = (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> =>
  poll(check, timeoutMs, what, 100);

export interface Tally {
  ledger: Record<string, number>;
  /** The fake backend's audit, counted from its rows. */
  audit: AuditReport;
  outboxUnfinished: number;
}

/** Counts what the ledger, the fake backend's audit and the outbox say. */
export async function tally(db: Database): Promise<Tally> {
  const ledger = await db.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM stratus_ledger GROUP BY state',
  );
  const outbox = await db.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM stratus_outbox o
    LEFT JOIN stratus_ledger l ON l.job_key = o.job_key
    WHERE l.state IS DISTINCT FROM 'completed'`);
  return {
    ledger: Object.fromEntries(ledger.rows.map((r) => [r.state, r.n])),
    audit: await auditReport(db),
    outboxUnfinished: outbox.rows[0]!.n,
  };
}
