// A leader process for the multi-process tests and the failover benchmark: campaigns for
// the given keys with the real PostgreSQL elector and LeaderGuard, and while it leads a key
// writes fenced rows continuously. Reports every event as one JSON line on stdout (times
// are wall-clock ms with sub-ms precision, comparable across processes of this machine).
// Reads commands as JSON lines on stdin: {"cmd":"write-stale","key":"k","req":1} makes one
// fenced write with the last term it held for that key, led or not, and reports it with the
// same req; {"cmd":"stop"} shuts down.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { coerceError, isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderGuard } from '../../src/ha/leader/guard.js';
import type { LeaderKey } from '../../src/ha/leader/keys.js';
import { PgElector } from '../../src/ha/leader/pg-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import type { ElectorSettings } from '../../src/ha/leader/settings.js';
import { sleep } from '../../src/ha/lifecycle/sleep.js';

export interface CampaignerConfig {
  nodeId: string;
  /** Connection string for the lock sessions. */
  lockUrl: string;
  /** Connection string for the pool that makes fenced writes. */
  poolUrl: string;
  keys: LeaderKey[];
  /** Pause between two fenced writes of one key. */
  writeEveryMs: number;
  /** Time spent inside each fenced transaction between the fence and the insert. */
  holdInTxMs: number;
  /** A statement run inside each fenced transaction before the insert (a long one, say). */
  statementInTx?: string;
  /**
   * Makes the singleton a zombie: it ignores its abort signal and never returns, keeping
   * `writers` fenced writers going, staggered, each holding its transaction `holdMs`.
   */
  zombie?: { writers: number; holdMs: number };
  /** The guard's grace for a singleton to stop. */
  singletonStopGraceMs?: number;
  settings?: Partial<ElectorSettings>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as CampaignerConfig;
const wallNow = () => performance.timeOrigin + performance.now();
const emit = (event: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify({ ...event, node: config.nodeId, t: wallNow() })}\n`);
};

// A pooled connection the server ends while this process is stopped or cut off fails the
// transaction it is in (a connection error, nothing committed); the driver drops it.
const db = createPgDatabase({
  connectionString: config.poolUrl,
  applicationName: `campaigner-pool:${config.nodeId}`,
  max: Math.max(2, config.keys.length * (config.zombie?.writers ?? 1)),
  connectionTimeoutMillis: 3_000,
  onError: () => {},
});
const log =
  (level: string) =>
  (obj: object, msg: string): void => {
    process.stderr.write(`${JSON.stringify({ level, t: wallNow(), node: config.nodeId, msg, ...obj })}\n`);
  };
const logger = { info: log('info'), warn: log('warn'), error: log('error'), debug: () => {} };
const elector = new PgElector({
  connectionString: config.lockUrl,
  nodeId: config.nodeId,
  settings: config.settings,
  logger,
});
const lastTerm = new Map<string, LeaderTerm>();
let writes = 0;

async function write(term: LeaderTerm, req?: number): Promise<void> {
  const n = ++writes;
  const begunAt = wallNow();
  try {
    await fencedTransaction(db, term, async (tx) => {
      const holdMs = config.zombie?.holdMs ?? config.holdInTxMs;
      if (holdMs > 0) await sleep(holdMs, new AbortController().signal);
      if (config.statementInTx) await tx.query(config.statementInTx);
      await tx.query('INSERT INTO fenced_writes (key_id, epoch, node, n) VALUES ($1, $2, $3, $4)', [
        term.keyId,
        term.epoch,
        config.nodeId,
        n,
      ]);
    });
    emit({ ev: 'write', key: term.key, epoch: term.epoch, n, req, begunAt, ok: true });
  } catch (err) {
    const e = coerceError(err);
    emit({
      ev: 'write',
      key: term.key,
      epoch: term.epoch,
      n,
      req,
      begunAt,
      ok: false,
      code: isStaleEpochError(e) ? e.code : ((e as { code?: string }).code ?? 'ERROR'),
      message: e.message,
    });
  }
}

const stop = new AbortController();
const guards = config.keys.map(
  (key) =>
    new LeaderGuard({
      elector,
      key,
      logger,
      backoff: { initialMs: 100, maxMs: 1_000, floorMs: 20 },
      ...(config.singletonStopGraceMs === undefined
        ? {}
        : { singletonStopGraceMs: config.singletonStopGraceMs }),
      onEvent: (e) => {
        if (e.type === 'elected') emit({ ev: 'elected', key: e.key, epoch: e.epoch });
        else if (e.type === 'lost') emit({ ev: 'lost', key: e.key, epoch: e.epoch, reason: e.reason });
        else if (e.type === 'ended') emit({ ev: 'ended', key: e.key, epoch: e.epoch, reason: e.reason });
        else if (e.type === 'singleton-stuck') emit({ ev: 'stuck', key: e.key, epoch: e.epoch });
        else emit({ ev: e.type, key: e.key, error: e.error.message });
      },
      // Deliberately ignores term.isCurrent(): a deposed leader that keeps writing is what
      // the fence must stop.
      run: async (signal, term) => {
        lastTerm.set(term.key, term);
        emit({ ev: 'started', key: term.key, epoch: term.epoch, pid: elector.holderPid });
        if (config.zombie) return zombie(term, config.zombie);
        while (!signal.aborted) {
          await write(term);
          await sleep(config.writeEveryMs, signal);
        }
      },
    }),
);

/** Writers that never stop, whatever the signal says; the returned promise never settles. */
async function zombie(term: LeaderTerm, { writers, holdMs }: { writers: number; holdMs: number }) {
  const forever = new AbortController().signal;
  const loop = async (i: number) => {
    await sleep((i * holdMs) / writers, forever);
    // A short pause between writes: with 200 ms writes, three or four stay open at any time.
    for (;;) {
      await write(term);
      await sleep(config.writeEveryMs, forever);
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, i) => loop(i)));
}

const running = guards.map((g) => g.start(stop.signal));

async function shutdown(): Promise<void> {
  stop.abort();
  await Promise.all(running);
  await elector.close();
  await db.close();
  emit({ ev: 'exit' });
  process.exit(0);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { cmd: string; key?: string; req?: number };
  if (cmd.cmd === 'stop') void shutdown();
  if (cmd.cmd === 'write-stale') {
    const term = lastTerm.get(cmd.key ?? '');
    if (term) void write(term, cmd.req);
    else emit({ ev: 'no-term', key: cmd.key, req: cmd.req });
  }
});
process.on('SIGTERM', () => void shutdown());
emit({ ev: 'ready', pid: process.pid });
