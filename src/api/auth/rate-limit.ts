// Requests per key and time window (@fastify/rate-limit), counted in this process on the
// embedded default and in Redis when the process has one, so every replica shares the count.
// A Redis that is down or slow lets the request through (fail open): losing Redis must not
// become an outage of the API. Over the limit: 429 problem+json with Retry-After.

import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

/** Options of {@link installRateLimit}. */
export interface RateLimitOptions {
  /** Requests per key per window; 0 turns the limit off. */
  readonly max: number;
  readonly windowMs: number;
  /** Shared counters; absent: in this process. */
  readonly redis?: Redis;
  /** Prefix of the Redis keys. */
  readonly prefix?: string;
  /** Longest wait for Redis before the request goes through uncounted. Default 100 ms. */
  readonly redisTimeoutMs?: number;
}

// INCR the window's counter; the first request of a window sets its expiry.
const INCR = `local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}`;

type Incr = (
  key: string,
  cb: (err: Error | null, res?: { current: number; ttl: number }) => void,
  windowMs: number,
) => void;

/** A store over the process's ioredis that never waits on a Redis that is not there. */
function redisStore(redis: Redis, prefix: string, timeoutMs: number) {
  const incr: Incr = (key, cb, windowMs) => {
    if (redis.status !== 'ready') return cb(new Error(`redis is ${redis.status}`));
    let done = false;
    const finish = (err: Error | null, res?: { current: number; ttl: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cb(err, res);
    };
    const timer = setTimeout(() => finish(new Error('redis did not answer in time')), timeoutMs);
    redis.eval(INCR, 1, `${prefix}${key}`, windowMs).then(
      (r) => {
        const [current, ttl] = r as [number, number];
        finish(null, { current, ttl });
      },
      (err: Error) => finish(err),
    );
  };
  return class RedisRateLimitStore {
    incr = incr;
    child() {
      return this;
    }
  };
}

/** Limits the requests of each authenticated principal in `scope` (after authentication). */
export async function installRateLimit(scope: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.max <= 0) return;
  await scope.register(rateLimit, {
    global: true,
    // After the authentication hook (onRequest): the count is per key, not per address.
    hook: 'preHandler',
    max: options.max,
    timeWindow: options.windowMs,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    skipOnError: true,
    ...(options.redis
      ? {
          store: redisStore(
            options.redis,
            `${options.prefix ?? 'stratus:'}ratelimit:`,
            options.redisTimeoutMs ?? 100,
          ) as never,
        }
      : {}),
    addHeadersOnExceeding: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
    },
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': true,
    },
    errorResponseBuilder: (_request, context) =>
      Object.assign(
        new Error(
          `more than ${context.max} requests in ${options.windowMs} ms with this key: retry after ${context.after}`,
        ),
        { statusCode: context.statusCode, code: 'RATE_LIMITED' },
      ),
  });
}
