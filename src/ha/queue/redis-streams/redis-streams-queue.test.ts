import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisPrefix } from '../../../../test/helpers/redis.js';
import { REDIS_URL } from '../../../../test/helpers/services.js';
import { eventually, queueContract } from '../contract.js';
import type { Queue } from '../port.js';
import { createRedisStreamsQueue } from './redis-streams-queue.js';

/** Names this file's connections, so the leak check can count them in CLIENT LIST. */
const tag = `qt${randomUUID().slice(0, 8)}`;

async function connectionsTagged(redis: Redis): Promise<number> {
  const list = (await redis.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter((line) => line.includes(`name=${tag}`)).length;
}

queueContract('Redis Streams', async () => {
  const { prefix, cleanup } = testRedisPrefix();
  const redis = new Redis(REDIS_URL);
  return {
    async open(options) {
      return createRedisStreamsQueue({ ...options, consumer: `${tag}.${options.consumer}`, redis, prefix });
    },
    async dispose() {
      redis.disconnect();
      await cleanup();
    },
  };
});

describe('Redis Streams queue', () => {
  const { prefix, cleanup } = testRedisPrefix();
  let redis: Redis;
  const opened: Queue[] = [];
  const open = (name: string, consumer: string, visibilityTimeoutMs = 5_000) => {
    const q = createRedisStreamsQueue({
      redis,
      prefix,
      name,
      consumer: `${tag}.${consumer}`,
      visibilityTimeoutMs,
    });
    opened.push(q);
    return q;
  };

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(opened.map((q) => q.close()));
    redis.disconnect();
    await cleanup();
  });

  async function wipe(): Promise<void> {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }

  it('keeps working after every key is lost (a Redis restart without data)', async () => {
    const a = open('flushed', 'a');
    const b = open('flushed', 'b');
    await a.addBatch(['1', '2']);
    expect((await a.receive(10, 1_000)).length).toBe(2);

    // A read blocked while the data disappears must come back and keep serving.
    const blocked = b.receive(10, 3_000);
    await wipe();
    const id = await a.add('after the loss');
    const got = await eventually(async () => {
      const first = await blocked.catch(() => []);
      const more = first.length > 0 ? first : await b.receive(10, 500);
      return more.length > 0 ? more : undefined;
    }, 'a message after the loss');
    expect(got.map((d) => [d.id, d.body])).toEqual([[id, 'after the loss']]);

    // Every other command recreates the group as well.
    await wipe();
    await a.touch(['0-1']);
    await wipe();
    await a.release('0-1', 0);
    await wipe();
    expect(await a.reclaim(10)).toEqual([]);
    await wipe();
    await a.ack(['0-1']);
    expect(await a.stats()).toMatchObject({ length: 0, pending: 0 });
    await a.add('still fine');
    expect((await b.receive(10, 1_000)).map((d) => d.body)).toEqual(['still fine']);
  });

  it('removes consumers that hold nothing and have been idle', async () => {
    const idle = open('consumers', 'idle');
    const holder = open('consumers', 'holder');
    const sweeper = open('consumers', 'sweeper');
    // A consumer exists once it has read something; this one then acks and goes quiet.
    await idle.add('done');
    const [done] = await idle.receive(10, 1_000);
    await idle.ack([done!.id]);
    await holder.add('m');
    expect((await holder.receive(10, 1_000)).length).toBe(1);
    const removed = await eventually(async () => {
      const names = await sweeper.removeDeadConsumers(100);
      return names.length > 0 ? names : undefined;
    }, 'idle consumer removed');
    expect(removed).toEqual([`${tag}.idle`]);
  });

  it('leaves no connection open once its handles are closed', async () => {
    const q = open('leaks', 'reader');
    const controller = new AbortController();
    const reads = [q.receive(1, 5_000, controller.signal), q.receive(1, 5_000), q.receive(1, 100)];
    expect(await connectionsTagged(redis)).toBeGreaterThan(0);
    controller.abort();
    await q.close();
    expect(await Promise.all(reads)).toEqual([[], [], []]);
    await Promise.all(opened.splice(0).map((h) => h.close()));
    await eventually(
      async () => ((await connectionsTagged(redis)) === 0 ? true : undefined),
      'connections closed',
    );
  });
});
