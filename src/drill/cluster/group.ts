// The drill's cluster, owned by one ProcessGroup: a fresh database on the PostgreSQL given, the
// drill's own redis-server (unless a Redis URL is given; then a fresh key prefix on it),
// `stratus sim` with an admin token (its fault rules), N replicas each reaching PostgreSQL and
// Redis through its own loopback fault proxy, and HAProxy in front of the api replicas.
//
// Everything it starts it stops (`stop`), in reverse order. A crash of the drill itself is the
// watchdog's to clean up: a process of its own that kills whatever `state.json` lists once the
// drill is gone, and drops the database.

import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type Child, isReadyLine, moduleCommand, spawnChild, stratusCommand } from './child.js';
import { createDatabase, dropDatabase } from './database.js';
import { freePort } from './free-port.js';
import { startHaproxy } from './haproxy.js';
import { type BalancerView, haproxyStats } from './haproxy-stats.js';
import { waitForHttp } from './http-ready.js';
import { startRedisServer } from './redis-server.js';
import { type DrillState, startTicksOf, type TrackedProcess, writeState } from './state-file.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const run = promisify(execFile);

/** Starts of a replica that exits before it is ready, before the drill gives up on it. */
const START_ATTEMPTS = 5;

/** The roles a drill runs replicas of. */
export type ReplicaRole = 'api' | 'worker';

/** What a {@link ProcessGroup} starts. */
export interface ClusterOptions {
  /** The run directory (logs, state.json, haproxy.cfg). */
  readonly dir: string;
  /** PostgreSQL to create the run's database on (any database of the server). */
  readonly databaseUrl: string;
  /** A Redis to use instead of the drill's own (a fresh key prefix on it). */
  readonly redisUrl?: string;
  readonly replicas: Readonly<Record<ReplicaRole, number>>;
  /** A name unique to the run: the database, the key prefix, the second tenant. */
  readonly runId: string;
  /** Keep the database at the end. */
  readonly keep?: boolean;
  /** Extra environment of every replica. */
  readonly env?: Record<string, string>;
  /** Called with a line of progress ("api-1 ready"). */
  readonly progress?: (line: string) => void;
}

/** One replica: its process comes and goes with faults; its name, port and proxies stay. */
export interface Replica {
  /** Also its node id: `api-1`, `worker-2`. */
  readonly name: string;
  readonly role: ReplicaRole;
  /** The API port (api replicas). */
  readonly port: number | undefined;
  readonly pgProxy: TcpProxy;
  readonly redisProxy: TcpProxy;
  /** The running process; undefined while down. */
  readonly process: Child | undefined;
}

/** A tenant's key, for the load. */
export interface TenantKey {
  readonly tenant: string;
  readonly key: string;
}

/** Starts, tracks and stops every process of a drill. */
/** The accounting minute of a drill's replicas, ms. */
export const DRILL_ACCOUNTING_MINUTE_MS = 10_000;

export class ProcessGroup {
  readonly #o: ClusterOptions;
  readonly #tracked = new Map<Child, TrackedProcess>();
  readonly #replicas: Array<{ -readonly [K in keyof Replica]: Replica[K] }> = [];
  readonly #proxies: TcpProxy[] = [];
  readonly #stateFile: string;
  #database: DrillState['database'];
  #dbUrl = '';
  #redisUrl = '';
  #redisPort: number | undefined;
  #redis: Child | undefined;
  #sim: Child | undefined;
  #haproxy: Child | undefined;
  /** The watchdog's pid (it ends by itself once the drill has). */
  watchdogPid: number | undefined;
  /** The simulator's base URL and admin token (fault rules). */
  simUrl = '';
  readonly simToken: string;
  /** HAProxy's URL: where the load goes. */
  apiUrl = '';
  /** HAProxy's view of the api replicas (its stats listener). */
  balancer: BalancerView = {
    serverStates: async () => {
      throw new Error('HAProxy is not started');
    },
  };
  /** An operator key (admin of tenant `local`), then the second tenant's admin key. */
  tenants: TenantKey[] = [];
  readonly redisPrefix: string;

  constructor(options: ClusterOptions) {
    this.#o = options;
    this.#stateFile = join(options.dir, 'state.json');
    this.simToken = `drill-${options.runId}-sim-admin-token`;
    this.redisPrefix = `drill:${options.runId}:`;
  }

  get replicas(): readonly Replica[] {
    return this.#replicas;
  }

  /** The run's database, straight (not through a replica's proxy). */
  get databaseUrl(): string {
    return this.#dbUrl;
  }

  /** The Redis the replicas use, straight. */
  get redisUrl(): string {
    return this.#redisUrl;
  }

  /** Whether the Redis is the drill's own (it may be flushed and restarted). */
  get ownsRedis(): boolean {
    return this.#o.redisUrl === undefined;
  }

  #progress(line: string): void {
    this.#o.progress?.(line);
  }

  #writeState(): void {
    writeState(this.#stateFile, {
      drillPid: process.pid,
      processes: [...this.#tracked.values()],
      ...(this.#database ? { database: this.#database } : {}),
    });
  }

  #track(child: Child): Child {
    this.#tracked.set(child, { name: child.name, pid: child.pid, startTicks: startTicksOf(child.pid) ?? '' });
    this.#writeState();
    void child.exited.then(() => {
      this.#tracked.delete(child);
      this.#writeState();
    });
    return child;
  }

  #log(name: string): string {
    return join(this.#o.dir, 'logs', `${name}.log`);
  }

  /** Starts everything; on a failure stops what it started and throws. */
  async start(): Promise<void> {
    mkdirSync(join(this.#o.dir, 'logs'), { recursive: true });
    this.#writeState();
    // Its own session, no pipes to the drill: it must outlive the drill, and the drill's exit
    // must not wait for it.
    const watchdog = moduleCommand('watchdog', [String(process.pid), this.#stateFile]);
    const child = spawn(watchdog.command, watchdog.args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: 'ignore',
      detached: true,
    });
    child.unref();
    this.watchdogPid = child.pid;
    try {
      await this.#startAll();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #startAll(): Promise<void> {
    const dbName = `stratus_drill_${this.#o.runId}`;
    this.#database = { adminUrl: this.#o.databaseUrl, name: dbName, keep: this.#o.keep ?? false };
    this.#writeState();
    this.#dbUrl = await createDatabase(this.#o.databaseUrl, dbName);
    this.#progress(`database ${dbName} created`);

    if (this.#o.redisUrl === undefined) {
      this.#redisPort = await freePort();
      this.#redis = this.#track(await startRedisServer(this.#redisPort, this.#o.dir, this.#log('redis')));
      this.#redisUrl = `redis://127.0.0.1:${this.#redisPort}`;
      this.#progress(`redis-server on port ${this.#redisPort}`);
    } else {
      this.#redisUrl = this.#o.redisUrl;
    }

    const simPort = await freePort();
    this.simUrl = `http://127.0.0.1:${simPort}`;
    const sim = stratusCommand(['sim', '--port', String(simPort), '--profile', 'fast']);
    this.#sim = this.#track(
      spawnChild({
        name: 'sim',
        ...sim,
        env: { SIM_ADMIN_TOKEN: this.simToken, LOG_LEVEL: 'warn' },
        logFile: this.#log('sim'),
      }),
    );

    for (const role of ['api', 'worker'] as const) {
      for (let i = 1; i <= this.#o.replicas[role]; i++) {
        const pgProxy = await startTcpProxy(this.#dbUrl);
        const redisProxy = await startTcpProxy(this.#redisUrl);
        this.#proxies.push(pgProxy, redisProxy);
        this.#replicas.push({
          name: `${role}-${i}`,
          role,
          port: role === 'api' ? await freePort() : undefined,
          pgProxy,
          redisProxy,
          process: undefined,
        });
      }
    }
    await waitForHttp(`${this.simUrl}/readyz`, 90_000);
    this.#progress(`sim on ${this.simUrl}`);
    // All at once (one of them migrates the fresh database): each start costs seconds here.
    await Promise.all(this.#replicas.map((r) => this.startReplica(r)));

    const haproxyPort = await freePort();
    const statsPort = await freePort();
    this.#haproxy = this.#track(
      await startHaproxy({
        port: haproxyPort,
        statsPort,
        servers: this.#replicas.filter((r) => r.role === 'api').map((r) => ({ name: r.name, port: r.port! })),
        configFile: join(this.#o.dir, 'haproxy.cfg'),
        logFile: this.#log('haproxy'),
      }),
    );
    this.apiUrl = `http://127.0.0.1:${haproxyPort}`;
    this.balancer = haproxyStats(`http://127.0.0.1:${statsPort}/stats`);
    this.#progress(`haproxy on ${this.apiUrl}`);
    await this.#makeKeys();
  }

  /** The environment of replica `r`: the stores through its proxies. */
  #replicaEnv(r: Replica): Record<string, string> {
    return {
      DATABASE_URL: r.pgProxy.urlFor(this.#dbUrl),
      REDIS_URL: r.redisProxy.urlFor(this.#redisUrl),
      REDIS_PREFIX: this.redisPrefix,
      CLOUD_URL: this.simUrl,
      LOG_LEVEL: 'info',
      // The load has two keys and a set rate: the drill measures availability, not the limit.
      RATE_LIMIT_MAX: '0',
      // A job whose message was lost (Redis data loss, a killed worker) is sent again after
      // 5 s, not 30 s: duplicates of a message are harmless (the ledger).
      SWEEPER_GRACE_MS: '5000',
      // 8 s leases and 16 jobs at once: on a loaded two-core machine a starved worker would
      // otherwise lose its 4 s leases (test/e2e/cluster.test.ts measured it).
      JOB_LEASE_MS: '8000',
      QUEUE_VISIBILITY_TIMEOUT_MS: '8000',
      WORKER_CONCURRENCY: '16',
      // An api replica stopping answers 503 on /readyz for 1.5 s first: HAProxy (checks every
      // 500 ms, down after 2) stops sending to it before it closes.
      DRAIN_DELAY_MS: r.role === 'api' ? '1500' : '0',
      // Minutes of 10 s: a few minutes of drill account many minutes of every resource, each
      // of which must be recorded once across the faults.
      ACCOUNTING_MINUTE_MS: String(DRILL_ACCOUNTING_MINUTE_MS),
      // A primary down 3 s is failed over: a database fault of a drill ends in a failover.
      DATABASE_FAILOVER_THRESHOLD_MS: '3000',
      ...this.#o.env,
    };
  }

  /**
   * Starts replica `r` (down) and resolves once it logged that it is ready. A replica that exits
   * on its own before it is ready (its database connection timed out while the machine was
   * loaded, say) is started again, as a process supervisor would, up to
   * {@link START_ATTEMPTS} times; each attempt appends to the same log.
   */
  async startReplica(replica: Replica): Promise<void> {
    const r = this.#replicas.find((x) => x.name === replica.name);
    if (!r) throw new Error(`no replica ${replica.name}`);
    if (r.process && !r.process.done) throw new Error(`${r.name} is already running`);
    const command = stratusCommand([
      'start',
      '--role',
      r.role,
      '--node-id',
      r.name,
      ...(r.port === undefined ? [] : ['--port', String(r.port), '--host', '127.0.0.1']),
    ]);
    for (let attempt = 1; ; attempt++) {
      const child = this.#track(
        spawnChild({ name: r.name, ...command, env: this.#replicaEnv(r), logFile: this.#log(r.name) }),
      );
      r.process = child;
      try {
        await child.waitForLine(isReadyLine, 90_000);
        this.#progress(`${r.name} ready (pid ${child.pid})`);
        return;
      } catch (error) {
        const exit = child.done ? await child.exited : undefined;
        // Only an exit of its own (a code, not a signal of the drill's) is started again.
        if (exit?.code === null || exit === undefined || attempt >= START_ATTEMPTS) throw error;
        this.#progress(
          `${r.name} exited with code ${exit.code} before it was ready: starting it again (attempt ${attempt + 1} of ${START_ATTEMPTS})`,
        );
        await delay(1_000 * attempt);
      }
    }
  }

  /** Sends `signal` to a replica's process and waits until it has ended; marks it down. */
  async endReplica(replica: Replica, how: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const r = this.#replicas.find((x) => x.name === replica.name);
    const child = r?.process;
    if (!r || !child) throw new Error(`${replica.name} is not running`);
    if (how === 'SIGKILL') child.signal('SIGKILL');
    await (how === 'SIGTERM' ? child.stop(30_000) : child.exited);
    r.process = undefined;
  }

  /** Makes the operator key with `stratus admin create-key`, then the second tenant and its key. */
  async #makeKeys(): Promise<void> {
    const command = stratusCommand([
      'admin',
      'create-key',
      '--tenant',
      'local',
      '--role',
      'admin',
      '--name',
      'drill',
    ]);
    const { stdout } = await run(command.command, command.args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: this.#dbUrl },
    });
    const operatorKey = stdout.split('\n').find((line) => line.startsWith('stratus_'));
    if (!operatorKey) throw new Error('stratus admin create-key printed no key');
    const tenant = `drill-b-${this.#o.runId.replaceAll('_', '-')}`.slice(0, 40);
    const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(new URL(path, this.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      if (response.status !== 201)
        throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(answer)}`);
      return answer;
    };
    await call('/v1/tenants', { id: tenant });
    const made = await call('/v1/api-keys', { name: 'drill', role: 'admin', tenant });
    this.tenants = [
      { tenant: 'local', key: operatorKey },
      { tenant, key: String(made.key) },
    ];
    this.#progress(`tenants local and ${tenant}, one key each`);
  }

  /** Stops the drill's own Redis (its data is lost: nothing is saved) and starts it again. */
  async restartRedis(): Promise<void> {
    if (!this.#redis || this.#redisPort === undefined)
      throw new Error("the Redis is not the drill's own: it is never restarted");
    this.#redis.signal('SIGKILL');
    await this.#redis.exited;
    this.#redis = this.#track(await startRedisServer(this.#redisPort, this.#o.dir, this.#log('redis')));
  }

  /** Stops everything in reverse order, drops the database unless kept. Never throws. */
  async stop(): Promise<void> {
    const quietly = async (what: () => Promise<unknown>) => {
      try {
        await what();
      } catch {
        // Stopping goes on: what one step leaves, the next may still clean.
      }
    };
    await quietly(async () => this.#haproxy?.stop(5_000));
    await Promise.all(this.#replicas.map((r) => quietly(async () => r.process?.stop(15_000))));
    await quietly(async () => this.#sim?.stop(10_000));
    await quietly(async () => this.#redis?.stop(5_000));
    await Promise.all(this.#proxies.map((p) => quietly(() => p.close())));
    if (this.#database && !this.#database.keep) {
      const { adminUrl, name } = this.#database;
      await quietly(() => dropDatabase(adminUrl, name));
    }
    // Nothing left for the watchdog to do: it sees the drill end and exits.
    this.#database = undefined;
    this.#writeState();
  }
}
