// Resume after SIGKILL, measured under load: three worker processes with DEFAULT timing
// settings run a steady stream of jobs (300-1,500 ms each, one in ten 5-8 s, past the lease;
// below capacity); again and again the
// worker holding the most running jobs is SIGKILLed and a new one started in its place, the
// next kill only once the last one's jobs run again. For
// every job that was running in the killed process, the sample is the time from the kill to
// the moment its handler starts again in another process. A job that starts again while the
// process running it is alive is a spurious takeover (a live worker lost its lease): counted,
// and expected to be 0.
//
//   npm run bench:queue -- --resume          # 24 kills
//   npm run bench:queue -- --resume --quick  # 6 kills
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Database } from '../src/ha/db/database.js';
import { migrate } from '../src/ha/db/migrate.js';
import { createPgDatabase } from '../src/ha/db/pg.js';
import type { NewJob } from '../src/ha/job/envelope.js';
import { delay } from '../src/ha/job/wake.js';
import { enqueueBatch } from '../src/ha/outbox/outbox.js';
import { createOutboxRelay } from '../src/ha/outbox/relay.js';
import { createRedisStreamsQueue } from '../src/ha/queue/redis-streams/redis-streams-queue.js';
import { createRedis } from '../src/ha/redis/connection.js';
import { createWorker } from '../src/ha/worker/worker.js';
import { migrations } from '../src/migrations/index.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { REDIS_URL } from '../test/helpers/services.js';

const WORKERS = 3;
const CONCURRENCY = 8;
/** Enqueued per second: about 60% of what three workers of 8 slots run at ~1.5 s a job on average. */
const JOBS_PER_S = 10;
/**
 * Pause after the jobs of one kill have all started again and its replacement is ready: kills
 * never overlap, so each sample is the recovery from ONE failure (a job taken over by a worker
 * that is killed next would count two recoveries as one).
 */
const PAUSE_MS = 1_500;

/** What a child reports, one JSON object a line. */
interface ChildEvent {
  event: 'ready' | 'started' | 'finished' | 'lag';
  /** `lag`: the longest event-loop stall of the last second, in ms. */
  maxMs?: number;
  nodeId: string;
  key?: string;
  attempt?: number;
  /** Receipt time in the parent (performance.now()). */
  at: number;
}

/** Child mode: a worker and relay with DEFAULT timing settings and one `work` kind. */
async function resumeChild(): Promise<void> {
  const nodeId = process.env.NODE_ID!;
  const db = createPgDatabase({ connectionString: process.env.DATABASE_URL!, max: 4 });
  const redis = createRedis({ url: REDIS_URL, onError: () => {} });
  const queue = createRedisStreamsQueue({
    redis,
    name: 'jobs',
    consumer: nodeId,
    prefix: process.env.QUEUE_PREFIX,
  });
  const say = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, nodeId })}\n`);
  const worker = createWorker({
    queue,
    db,
    nodeId,
    concurrency: CONCURRENCY,
    handlers: {
      work: {
        maxAttempts: 50,
        handler: async ({ job, attempt, signal }) => {
          say({ event: 'started', key: job.key, attempt });
          await delay((job.payload as { workMs: number }).workMs, signal);
          signal.throwIfAborted();
          say({ event: 'finished', key: job.key, attempt });
        },
      },
    },
  });
  const relay = createOutboxRelay({ db, queue });
  // How late this process's timers ran (its heartbeats with them): the margin the lease must cover.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  setInterval(() => {
    say({ event: 'lag', maxMs: Math.round(loop.max / 1e6) });
    loop.reset();
  }, 1_000).unref();
  const controller = new AbortController();
  process.on('SIGTERM', () => controller.abort());
  const running = Promise.all([worker.start(controller.signal), relay.start(controller.signal)]);
  say({ event: 'ready' });
  await running;
  process.exit(0);
}

export interface ResumeFigures {
  kills: number;
  /** Jobs that were running in a killed process. */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Of each kill, its slowest job. */
  worstPerKillMs: number[];
  /** Jobs started again while the process running them was alive: 0 expected. */
  spuriousTakeovers: number;
  /** The longest event-loop stall seen in any worker process, in ms. */
  maxEventLoopStallMs: number;
  /** Jobs of a killed worker that did not start again within 60 s, with their ledger state: none expected. */
  notResumed: string[];
  jobs: number;
  /** Jobs not completed in the ledger at the end: 0 expected. */
  unfinished: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

class Fleet {
  readonly events: ChildEvent[] = [];
  readonly alive = new Map<string, ChildProcess>();
  /** Node id → when it was killed. */
  readonly killedAt = new Map<string, number>();
  #generation = 0;

  constructor(private readonly env: Record<string, string>) {}

  spawn(): string {
    const nodeId = `resume-${++this.#generation}`;
    const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], {
      env: { ...process.env, ...this.env, NODE_ID: nodeId },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: c.stdout! }).on('line', (l) => {
      try {
        this.events.push({ ...(JSON.parse(l) as ChildEvent), at: performance.now() });
      } catch {}
    });
    this.alive.set(nodeId, c);
    return nodeId;
  }

  kill(nodeId: string): number {
    const at = performance.now();
    this.alive.get(nodeId)!.kill('SIGKILL');
    this.alive.delete(nodeId);
    this.killedAt.set(nodeId, at);
    return at;
  }

  async waitFor(match: (e: ChildEvent) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.events.some(match)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(5);
    }
  }

  /** Keys started and not finished by `nodeId`, with their attempt. */
  running(nodeId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.events) {
      if (e.nodeId !== nodeId || e.key === undefined) continue;
      if (e.event === 'started') out.set(e.key, e.attempt!);
      else if (e.event === 'finished') out.delete(e.key);
    }
    return out;
  }

  stopAll(): void {
    for (const c of this.alive.values()) c.kill('SIGKILL');
    this.alive.clear();
  }
}

/** Starts of a later attempt of a job whose previous start's process was alive and had not finished it. */
function spuriousTakeovers(events: readonly ChildEvent[], killedAt: ReadonlyMap<string, number>): number {
  const last = new Map<string, ChildEvent>();
  const finished = new Set<string>();
  let spurious = 0;
  for (const e of events) {
    if (e.key === undefined) continue;
    if (e.event === 'finished') finished.add(`${e.key}#${e.attempt}`);
    if (e.event !== 'started') continue;
    const prev = last.get(e.key);
    if (prev && !finished.has(`${prev.key}#${prev.attempt}`)) {
      const killed = killedAt.get(prev.nodeId);
      if (killed === undefined || killed > e.at) spurious++;
    }
    last.set(e.key, e);
  }
  return spurious;
}

async function enqueueAtRate(db: Database, signal: AbortSignal): Promise<void> {
  const t0 = performance.now();
  let n = 0;
  while (!signal.aborted) {
    const due = Math.floor(((performance.now() - t0) / 1000) * JOBS_PER_S);
    const jobs: NewJob[] = [];
    for (; n < due; n++) {
      jobs.push({
        key: `r-${n}`,
        kind: 'work',
        payload: { workMs: 300 + Math.floor(Math.random() * 1_200) },
      });
    }
    if (jobs.length > 0) await db.transaction((tx) => enqueueBatch(tx, jobs));
    await delay(50, signal).catch(() => {});
  }
}

async function ledgerStates(db: Database, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const res = await db.query<{ job_key: string; state: string; attempt: number; owner: string }>(
    'SELECT job_key, state, attempt, owner FROM stratus_ledger WHERE job_key = ANY($1::text[])',
    [keys],
  );
  return res.rows.map((r) => `${r.job_key}: ${r.state}, attempt ${r.attempt}, owner ${r.owner}`);
}

/** Runs the measurement: `kills` SIGKILLs of the busiest worker, each replaced at once. */
export async function resumeAfterKill(kills: number, log: (line: string) => void): Promise<ResumeFigures> {
  const t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url, max: 4 });
  await migrate(db, migrations);
  const prefix = `stratus-bench:${randomUUID()}:`;
  const fleet = new Fleet({ DATABASE_URL: t.url, QUEUE_PREFIX: prefix });
  const samples: number[] = [];
  const worstPerKill: number[] = [];
  /** Jobs of a killed worker that did not start again within 60 s. */
  const notResumed: string[] = [];
  const load = new AbortController();
  let enqueued: Promise<void> | undefined;
  try {
    const ready = (id: string) =>
      fleet.waitFor((e) => e.event === 'ready' && e.nodeId === id, 60_000, `${id} ready`);
    const first = Array.from({ length: WORKERS }, () => fleet.spawn());
    await Promise.all(first.map(ready));
    enqueued = enqueueAtRate(db, load.signal);
    await delay(PAUSE_MS);
    for (let k = 0; k < kills; k++) {
      const victim = [...fleet.alive.keys()]
        .map((id) => ({ id, running: fleet.running(id) }))
        .sort((a, b) => b.running.size - a.running.size)[0]!;
      const killedAt = fleet.kill(victim.id);
      const replacement = fleet.spawn();
      const times: number[] = [];
      for (const [key, attempt] of victim.running) {
        const again = (e: ChildEvent) =>
          e.event === 'started' && e.key === key && e.attempt! > attempt && e.at > killedAt;
        // Its end written just before the kill and read just after: it did not need to resume.
        const endedBeforeKill = (e: ChildEvent) =>
          e.event === 'finished' && e.key === key && e.attempt === attempt && e.nodeId === victim.id;
        const seen = await fleet
          .waitFor((e) => again(e) || endedBeforeKill(e), 60_000, `${key}`)
          .then(
            () => true,
            () => false,
          );
        if (!seen) notResumed.push(key);
        else if (!fleet.events.some(endedBeforeKill)) times.push(fleet.events.find(again)!.at - killedAt);
      }
      samples.push(...times);
      worstPerKill.push(Math.max(0, ...times));
      log(
        `kill ${k + 1}: ${victim.id} ran ${victim.running.size} jobs; started again after ${times
          .map((x) => `${Math.round(x)}`)
          .join(', ')} ms`,
      );
      await ready(replacement);
      await delay(PAUSE_MS);
    }
    load.abort();
    await enqueued;
    const total = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stratus_outbox');
    const jobs = total.rows[0]!.n;
    const deadline = Date.now() + 60_000;
    let unfinished = jobs;
    while (Date.now() < deadline) {
      const res = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM stratus_ledger WHERE state = 'completed'`,
      );
      unfinished = jobs - res.rows[0]!.n;
      if (unfinished === 0) break;
      await delay(200);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      kills,
      samples: samples.length,
      p50Ms: Math.round(percentile(sorted, 50)),
      p99Ms: Math.round(percentile(sorted, 99)),
      maxMs: Math.round(sorted.at(-1) ?? 0),
      worstPerKillMs: worstPerKill.map(Math.round),
      spuriousTakeovers: spuriousTakeovers(fleet.events, fleet.killedAt),
      maxEventLoopStallMs: Math.max(0, ...fleet.events.map((e) => e.maxMs ?? 0)),
      notResumed: await ledgerStates(db, notResumed),
      jobs,
      unfinished,
    };
  } finally {
    load.abort();
    await enqueued?.catch(() => {});
    fleet.stopAll();
    await db.close();
    await t.drop();
  }
}

// This file is also the worker child: spawned with --child, it runs `resumeChild`.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--child'))
  await resumeChild();
