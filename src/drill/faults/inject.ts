// Every FaultAction, on the target a step names, recorded as a FaultRecord. A record's endT is
// when the fault was over: the replica restarted and ready, the proxy forwarding again, the
// rule removed, the Redis answering again.
//
// Targets: `api`, `worker` (one replica of the role, drawn from the seed), `api-1` (by name),
// `leader:<key>` (whoever leads the key when the step runs), `redis`, `backend:<name>`, `all`
// (every replica, for a rolling restart).

import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { ProcessGroup, Replica } from '../cluster/group.js';
import { untilServers } from '../cluster/haproxy-stats.js';
import { withClient } from '../cluster/pg-client.js';
import type { DrillTime, FaultRecord, FaultStep } from '../evidence.js';
import { addBackendFault, takeDatabasePrimaryDown } from './backend.js';
import { FaultTargetError } from './errors.js';
import { currentLeader } from './leaders.js';
import { pick } from './random.js';

/** What injecting needs. */
export interface FaultContext {
  readonly group: ProcessGroup;
  readonly scenario: string;
  readonly random: () => number;
  /** Now, on the drill's clock. */
  now(): DrillTime;
  /** A progress line. */
  readonly progress?: (line: string) => void;
}

const REPLICA_ACTIONS = new Set([
  'kill',
  'pause',
  'restart',
  'drop-db-sessions',
  'blackhole-db',
  'blackhole-redis',
]);

/** The replica a step targets, and the key it led when the target was a leader. */
async function resolveReplica(
  ctx: FaultContext,
  target: string,
): Promise<{ replica: Replica; leaderKey?: string }> {
  const { group } = ctx;
  if (target.startsWith('leader:')) {
    const key = target.slice('leader:'.length);
    const operator = group.tenants[0];
    if (!operator) throw new Error('no operator key yet');
    const holder = await currentLeader(group.apiUrl, operator.key, key, 30_000);
    const replica = group.replicas.find((r) => r.name === holder);
    if (!replica) throw new FaultTargetError(`${key} is led by ${holder}, which is no replica of this drill`);
    return { replica, leaderKey: key };
  }
  if (target === 'api' || target === 'worker') {
    const up = group.replicas.filter((r) => r.role === target && r.process !== undefined);
    if (up.length === 0) throw new FaultTargetError(`no ${target} replica is running`);
    return { replica: pick(up, ctx.random) };
  }
  const replica = group.replicas.find((r) => r.name === target);
  if (!replica) {
    throw new FaultTargetError(
      `unknown target ${JSON.stringify(target)}: expected api, worker, leader:<key>, a replica (${group.replicas.map((r) => r.name).join(', ')}), redis, backend:<name> or all`,
    );
  }
  return { replica };
}

/** Terminates every PostgreSQL session of `nodeId` (application_name `stratus…:<node>[:…]`). */
async function dropSessions(group: ProcessGroup, nodeId: string): Promise<number> {
  return withClient(group.databaseUrl, async (client) => {
    const { rows } = await client.query<{ dropped: number }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS dropped FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND application_name ~ ('^stratus[a-z-]*:' || $1 || '(:|$)')`,
      [nodeId],
    );
    return rows[0]?.dropped ?? 0;
  });
}

/** Deletes every key of the drill's prefix (the data loss of a Redis that is not the drill's own). */
async function flushRedis(group: ProcessGroup): Promise<void> {
  const redis = new Redis(group.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    if (group.ownsRedis) {
      await redis.flushall();
      return;
    }
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${group.redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** How long an api replica may take to be UP in HAProxy again once its fault is lifted. */
export const BALANCER_UP_MS = 60_000;

/**
 * Resolves once HAProxy shows api replica `replica` UP (a worker at once): a fault on an api
 * replica is over when HAProxy sends it requests again, not when it is ready, so that the next
 * fault on the other one never leaves no api serving (schedule.ts).
 */
async function servingAgain(ctx: FaultContext, replica: Replica): Promise<void> {
  if (replica.role !== 'api') return;
  const waited = await untilServers(
    ctx.group.balancer,
    (states) => states.get(replica.name) === 'UP',
    BALANCER_UP_MS,
  );
  if (waited === undefined)
    throw new Error(`${replica.name} was not UP in HAProxy within ${BALANCER_UP_MS} ms of its fault's end`);
}

/** Stops a replica with `how`, starts it again, resolves once it is ready and serving. */
async function bounce(ctx: FaultContext, replica: Replica, how: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  await ctx.group.endReplica(replica, how);
  await ctx.group.startReplica(replica);
  await servingAgain(ctx, replica);
}

/** Injects one step; resolves with its record once the fault is over. */
export async function injectFault(ctx: FaultContext, step: FaultStep): Promise<FaultRecord> {
  const { group } = ctx;
  const forMs = step.forMs ?? 0;
  const record = (resolved: string, startT: DrillTime, leaderKey?: string): FaultRecord => ({
    scenario: ctx.scenario,
    action: step.action,
    target: step.target,
    resolved,
    startT,
    endT: ctx.now(),
    ...(leaderKey === undefined ? {} : { leaderKey }),
  });

  if (REPLICA_ACTIONS.has(step.action)) {
    const { replica, leaderKey } = await resolveReplica(ctx, step.target);
    const pid = replica.process?.pid;
    const resolved = `${replica.name}${pid === undefined ? '' : ` (pid ${pid})`}`;
    ctx.progress?.(`${step.action} ${step.target} -> ${resolved}`);
    const startT = ctx.now();
    switch (step.action) {
      case 'kill':
        await bounce(ctx, replica, 'SIGKILL');
        break;
      case 'restart':
        await bounce(ctx, replica, 'SIGTERM');
        break;
      case 'pause': {
        const child = replica.process;
        if (!child) throw new FaultTargetError(`${replica.name} is not running`);
        child.signal('SIGSTOP');
        await delay(forMs);
        child.signal('SIGCONT');
        break;
      }
      case 'drop-db-sessions': {
        const dropped = await dropSessions(group, replica.name);
        await servingAgain(ctx, replica);
        return { ...record(`${resolved}: ${dropped} sessions`, startT, leaderKey) };
      }
      case 'blackhole-db':
      case 'blackhole-redis': {
        const proxy = step.action === 'blackhole-db' ? replica.pgProxy : replica.redisProxy;
        proxy.blackhole();
        await delay(forMs);
        proxy.resume();
        break;
      }
    }
    // Kill and restart waited in bounce(); a pause or a blackhole may have taken it out too.
    if (step.action === 'pause' || step.action.startsWith('blackhole-')) await servingAgain(ctx, replica);
    return record(resolved, startT, leaderKey);
  }

  switch (step.action) {
    case 'redis-flushall': {
      ctx.progress?.(
        `redis-flushall ${group.ownsRedis ? "on the drill's redis-server" : `of prefix ${group.redisPrefix}`}`,
      );
      const startT = ctx.now();
      await flushRedis(group);
      return record(group.ownsRedis ? 'FLUSHALL' : `DEL ${group.redisPrefix}*`, startT);
    }
    case 'redis-restart': {
      if (!group.ownsRedis)
        throw new FaultTargetError("redis-restart needs the drill's own Redis (no --redis-url)");
      ctx.progress?.('redis-restart');
      const startT = ctx.now();
      await group.restartRedis();
      return record(group.redisUrl, startT);
    }
    case 'backend-outage':
    case 'backend-slow':
    case 'backend-hang': {
      ctx.progress?.(`${step.action} ${step.target} for ${forMs} ms`);
      const startT = ctx.now();
      const remove = await addBackendFault(
        { url: group.simUrl, token: group.simToken },
        step.action,
        step.target,
      );
      await delay(forMs);
      await remove();
      return record(step.target, startT);
    }
    case 'database-primary-down': {
      const startT = ctx.now();
      const down = await takeDatabasePrimaryDown({ url: group.simUrl, token: group.simToken }, ctx.random);
      ctx.progress?.(`database-primary-down ${down.resolved} for ${forMs} ms`);
      await delay(forMs);
      await down.restore();
      return record(down.resolved, startT);
    }
    case 'rolling-restart': {
      const replicas =
        step.target === 'all' ? group.replicas : group.replicas.filter((r) => r.role === step.target);
      if (replicas.length === 0)
        throw new FaultTargetError(`no replica for a rolling restart of ${step.target}`);
      ctx.progress?.(`rolling-restart of ${replicas.map((r) => r.name).join(', ')}`);
      const startT = ctx.now();
      // One at a time, the next only once the previous is serving again (bounce()).
      for (const replica of replicas) await bounce(ctx, replica, 'SIGTERM');
      return record(replicas.map((r) => r.name).join(','), startT);
    }
  }
  throw new FaultTargetError(`unknown action ${JSON.stringify(step.action)}`);
}
