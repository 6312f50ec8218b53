import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  /** Shown by CLIENT LIST, so an operator can tell which node a connection belongs to. */
  connectionName?: string;
  /** Upper bound of the reconnect backoff (ms). */
  maxReconnectDelayMs?: number;
  /** Errors of the connection (refused, reset): logged, never thrown into the process. */
  onError?: (err: Error) => void;
  /** Extra ioredis options (a blocking reader sets `maxRetriesPerRequest: null`). */
  overrides?: Partial<RedisOptions>;
}

/**
 * Reconnect delay for the n-th attempt (1-based): exponential from 50 ms, capped, with full
 * jitter so that replicas that lost Redis together do not reconnect in lockstep.
 */
export function reconnectDelay(attempt: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, 50 * 2 ** Math.min(attempt, 20));
  return Math.max(10, Math.floor(random() * ceiling));
}

/**
 * The one way Stratus opens a Redis connection. It reconnects forever with bounded backoff,
 * fails commands fast while disconnected (instead of queueing them without bound), and
 * reports errors through `onError` so that an outage never crashes the process.
 */
export function createRedis(options: RedisConnectionOptions): Redis {
  const cap = options.maxReconnectDelayMs ?? 2_000;
  const redis = new Redis(options.url, {
    connectionName: options.connectionName,
    retryStrategy: (attempt) => reconnectDelay(attempt, cap),
    // A command issued while Redis is down fails after one reconnect attempt rather than waiting
    // (callers have their own retry and the readiness probe must answer promptly).
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    lazyConnect: false,
    ...options.overrides,
  });
  redis.on('error', (err: Error) => options.onError?.(err));
  return redis;
}

/** Resolves when Redis answers PING within `timeoutMs`, rejects otherwise. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis connection is ${redis.status}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`redis did not answer PING within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
