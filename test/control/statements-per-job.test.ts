// What one reconcile job costs the stores on the highly available path (PostgreSQL + Redis
// Streams): database statements and transactions, and Redis commands, per instance made Ready,
// from the outbox relay to the ack. The create request's own transaction is not counted: it is
// the API's. Each statement is told apart by the first line of its SQL file.
//
// The bounds are what the path costs now with some room: a change that adds a statement to
// every job fails here, and the printed table says which. Before the passes' start and status
// write were batched this path cost 2.12 statements per instance (one start and one write of
// its own each), and the 1.5 bound failed; batched, 0.8-1.0. Since the relay's claim marks its
// rows dispatched (no mark statement after the queue call) and a pass's start writes no
// operation row, the bound is 1.2.

import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { RECONCILE_JOB } from '../../src/control/jobs.js';
import { createReconcileHandler } from '../../src/control/reconcile.js';
import { createResourceService, type ResourceService } from '../../src/control/service.js';
import type { Database, Queryable } from '../../src/ha/db/database.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { createOutboxRelay } from '../../src/ha/outbox/relay.js';
import { createRedisStreamsQueue } from '../../src/ha/queue/redis-streams/redis-streams-queue.js';
import { createWorker } from '../../src/ha/worker/worker.js';
import { builtinRegistry } from '../../src/kinds/index.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';

const INSTANCES = 300;
const TENANT = 't1';

/** Counts by label. */
class Tally {
  readonly counts = new Map<string, number>();
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  table(per: number): string {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([label, n]) => `${(n / per).toFixed(2).padStart(7)}  ${label}`)
      .join('\n');
  }
}

/** A statement's label: the first line of its text that is not blank. */
const labelOf = (sql: string) => (sql.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 100);

/** `db`, counting every statement and every transaction (BEGIN and COMMIT are round trips too). */
function counting(db: Database, statements: Tally, transactions: { count: number }): Database {
  const wrap = (q: Queryable): Queryable => ({
    query(sql, params) {
      statements.add(labelOf(sql));
      return q.query(sql, params);
    },
    exec(sql) {
      statements.add(labelOf(sql));
      return q.exec(sql);
    },
  });
  const outer = wrap(db);
  return {
    ...db,
    query: outer.query,
    exec: outer.exec,
    transaction(fn) {
      transactions.count++;
      statements.add('BEGIN');
      statements.add('COMMIT');
      return db.transaction((tx) => fn(wrap(tx)));
    },
  };
}

/** `redis` and its duplicates (the blocking readers), counting every command by name. */
function countingRedis(redis: Redis, commands: Tally): Redis {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    commands.add(command.name);
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as Redis['sendCommand'];
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = ((...args: Parameters<Redis['duplicate']>) =>
    countingRedis(duplicate(...args), commands)) as Redis['duplicate'];
  return redis;
}

describe('the cost of one reconcile job on PostgreSQL + Redis Streams', () => {
  let t: TestDatabase;
  let db: Database;
  let redis: Redis;
  const redisPrefix = testRedisPrefix();
  let service: ResourceService;
  let networkId: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createPgDatabase({ connectionString: t.url, max: 10 });
    await migrate(db, migrations);
    redis = new Redis(REDIS_URL);
    service = createResourceService({ db, kinds: builtinRegistry(), maxAttempts: 5, idempotencyWaitMs: 500 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await db?.close();
    await t?.drop();
    await redisPrefix.cleanup();
  });

  /** Runs relay and worker on counted stores until `done` holds; returns the counts. */
  async function run(done: () => Promise<boolean>) {
    const statements = new Tally();
    const transactions = { count: 0 };
    const commands = new Tally();
    const counted = counting(db, statements, transactions);
    const counter = countingRedis(redis.duplicate(), commands);
    const queue = createRedisStreamsQueue({
      redis: counter,
      prefix: redisPrefix.prefix,
      name: 'jobs',
      consumer: 'w1',
    });
    const worker = createWorker({
      queue,
      db: counted,
      nodeId: 'w1',
      handlers: {
        [RECONCILE_JOB]: createReconcileHandler({
          db: counted,
          kinds: builtinRegistry(),
          ports: backends,
          logger: pino({ level: 'silent' }),
        }),
      },
    });
    const relay = createOutboxRelay({ db: counted, queue });
    const stop = new AbortController();
    const running = Promise.all([worker.start(stop.signal), relay.start(stop.signal)]);
    try {
      await until(done, 60_000, 'the jobs to finish', 50);
    } finally {
      stop.abort();
      await running;
      await queue.close();
      counter.disconnect();
    }
    return { statements, transactions, commands };
  }

  const backends = createBackends();
  const allSucceeded = (n: number) => async () => {
    const res = await db.query<{ n: number }>(
      "SELECT count(*)::integer AS n FROM stratus_operations WHERE state = 'succeeded'",
    );
    return Number(res.rows[0]!.n) >= n;
  };

  it('makes an instance Ready in at most 1.2 statements and 0.1 transactions of the job path, and 2 Redis commands', async () => {
    const net = await service.create(TENANT, 'networks', { name: 'n', spec: { cidr: '10.0.0.0/16' } });
    networkId = (JSON.parse(net.body) as { resource: { id: string } }).resource.id;
    await run(allSucceeded(1));

    for (let i = 0; i < INSTANCES; i++)
      await service.create(TENANT, 'instances', {
        name: `i${i}`,
        spec: { image: 'ubuntu-24.04', size: 'small', network: networkId },
      });
    const { statements, transactions, commands } = await run(allSucceeded(1 + INSTANCES));
    const ready = await db.query<{ n: number }>(
      "SELECT count(*)::integer AS n FROM stratus_resources WHERE kind = 'instances' AND status->>'phase' = 'Ready'",
    );
    expect(Number(ready.rows[0]!.n)).toBe(INSTANCES);

    const failures = await db.query<{ last_error: string; n: number }>(
      'SELECT last_error, count(*)::integer AS n FROM stratus_ledger WHERE last_error IS NOT NULL GROUP BY 1',
    );
    process.stderr.write(`failed attempts: ${JSON.stringify(failures.rows)}\n`);
    const perJob = statements.total / INSTANCES;
    const report = [
      `per instance: ${perJob.toFixed(2)} statements, ${(transactions.count / INSTANCES).toFixed(2)} transactions, ${(commands.total / INSTANCES).toFixed(2)} Redis commands`,
      statements.table(INSTANCES),
      commands.table(INSTANCES),
    ].join('\n');
    process.stderr.write(`${report}\n`);
    expect(perJob, report).toBeLessThanOrEqual(1.2);
    expect(transactions.count / INSTANCES, report).toBeLessThanOrEqual(0.1);
    expect(commands.total / INSTANCES, report).toBeLessThanOrEqual(2);
  });
});
