// A real cluster for the end-to-end test: `stratus sim` (fast profile) as the shared cloud and
// `stratus start` replicas of the roles asked for, on one fresh PostgreSQL database and one
// Redis key prefix of the test's own, each pointed at the sim with --cloud-url.

import { createServer } from 'node:net';
import { isReady, type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

/** One replica of the cluster. */
export interface Replica {
  readonly nodeId: string;
  readonly role: 'api' | 'worker';
  readonly process: StratusProcess;
  /** The API's base URL (api replicas). */
  readonly url: string | undefined;
}

/** What {@link startCluster} needs. */
export interface ClusterOptions {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly apis: number;
  readonly workers: number;
  /** Extra environment of every replica. */
  readonly env?: Record<string, string>;
}

/** The sim and the replicas, all ready. */
export interface Cluster {
  readonly sim: StratusProcess;
  readonly simUrl: string;
  readonly replicas: readonly Replica[];
  /** An admin key of tenant local, made with `stratus admin create-key` as an operator would. */
  readonly apiKey: string;
  /** Kills a replica with SIGKILL and waits until it is gone; returns when it was signalled. */
  kill(replica: Replica): Promise<number>;
}

/** A port free now: the sim gets it, so the replicas can be told its URL before it is up. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the sim and every replica at once (one of them migrates the fresh database): on a
 * loaded two-core machine each start costs seconds, and nothing a replica does before it is
 * ready calls the cloud.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const simPort = await freePort();
  const sim = spawnStratus(['sim', '--port', String(simPort), '--profile', 'fast']);
  const simUrl = `http://127.0.0.1:${simPort}`;
  const env = {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.redisPrefix,
    CLOUD_URL: simUrl,
    ...options.env,
  };
  const plan = [
    ...Array.from({ length: options.apis }, (_, i) => ({ role: 'api' as const, nodeId: `e2e-api-${i + 1}` })),
    ...Array.from({ length: options.workers }, (_, i) => ({
      role: 'worker' as const,
      nodeId: `e2e-worker-${i + 1}`,
    })),
  ];
  const started = plan.map(({ role, nodeId }) => ({
    role,
    nodeId,
    process: spawnStratus(['start', '--role', role, '--port', '0', '--node-id', nodeId], env),
  }));
  const [, ...replicas] = await Promise.all([
    sim.waitForLog((r) => r.url === simUrl, 90_000),
    ...started.map(async (r) => {
      const ready = await r.process.waitForLog(isReady, 90_000);
      return { ...r, url: role(r.role, ready.url) };
    }),
  ]);
  // The database is migrated once a replica is ready: the first key, as the docs give it.
  const keyMaker = spawnStratus(
    ['admin', 'create-key', '--tenant', 'local', '--role', 'admin', '--name', 'e2e'],
    env,
  );
  const made = await keyMaker.exited;
  const apiKey = keyMaker.logs
    .map((l) => l.raw)
    .find((line) => typeof line === 'string' && line.startsWith('stratus_'));
  if (made.code !== 0 || typeof apiKey !== 'string')
    throw new Error(`stratus admin create-key failed (${JSON.stringify(made)}): ${keyMaker.stderr.join('')}`);
  return {
    sim,
    simUrl,
    replicas,
    apiKey,
    async kill(replica) {
      const at = Date.now();
      replica.process.child.kill('SIGKILL');
      const exit = await replica.process.exited;
      if (exit.signal !== 'SIGKILL') throw new Error(`${replica.nodeId} ended with ${JSON.stringify(exit)}`);
      return at;
    },
  };
}

function role(r: 'api' | 'worker', url: unknown): string | undefined {
  if (r === 'worker') return undefined;
  if (typeof url !== 'string') throw new Error('an api replica logged no URL in its ready line');
  return url;
}
