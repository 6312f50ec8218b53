import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadText } from '../../db/sql-loader.js';

/**
 * A Lua script run by its SHA (EVALSHA), loaded again with EVAL when the server does not know
 * it: a restarted Redis has forgotten every script, and that must cost one round trip, not an
 * error.
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  /** `url` is the script; `preludes` go in front of it (shared local functions). */
  constructor(url: URL, ...preludes: URL[]) {
    this.source = [...preludes, url].map(loadText).join('\n');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** The scripts of the Redis Streams adapter, one statement of the port each. */
const entry = new URL('./entry.lua', import.meta.url);

export const scripts = {
  addBatch: new LuaScript(new URL('./add-batch.lua', import.meta.url)),
  ack: new LuaScript(new URL('./ack.lua', import.meta.url)),
  touch: new LuaScript(new URL('./touch.lua', import.meta.url)),
  release: new LuaScript(new URL('./release.lua', import.meta.url), entry),
  promote: new LuaScript(new URL('./promote.lua', import.meta.url)),
  deadLetter: new LuaScript(new URL('./dead-letter.lua', import.meta.url), entry),
  reclaim: new LuaScript(new URL('./reclaim.lua', import.meta.url), entry),
  stats: new LuaScript(new URL('./stats.lua', import.meta.url)),
  removeDeadConsumers: new LuaScript(new URL('./remove-dead-consumers.lua', import.meta.url)),
};
