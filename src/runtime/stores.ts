import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Database } from '../ha/db/database.js';
import { migrate, pendingMigrations } from '../ha/db/migrate.js';
import { createPgDatabase } from '../ha/db/pg.js';
import { createPgliteDatabase } from '../ha/db/pglite.js';
import { createRedis, pingRedis } from '../ha/redis/connection.js';
import { migrations } from '../migrations/index.js';
import { lockDataDir } from './data-dir-lock.js';
import type { ReadinessCheck } from './readiness.js';

/** The stores one process talks to, and how to close them. */
export interface Stores {
  db: Database;
  redis: Redis | undefined;
  /** Human-readable: what the process runs on (printed once ready). */
  description: string;
  readinessChecks: ReadinessCheck[];
  close(): Promise<void>;
}

/**
 * Opens the database (PostgreSQL when a URL is set, the embedded PGlite in the data dir
 * otherwise) and Redis when configured.
 */
export async function openStores(config: Config, logger: Logger): Promise<Stores> {
  let db: Database;
  let releaseDir: (() => void) | undefined;
  let where: string;
  if (config.databaseUrl) {
    db = createPgDatabase({
      connectionString: config.databaseUrl,
      applicationName: `stratus:${config.nodeId}`,
      onError: (err) => logger.warn({ err }, 'idle database connection failed'),
    });
    const url = new URL(config.databaseUrl);
    where = `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
  } else {
    const dir = resolve(config.dataDir);
    releaseDir = lockDataDir(dir);
    try {
      db = await createPgliteDatabase(join(dir, 'pgdata'));
    } catch (err) {
      releaseDir();
      throw err;
    }
    where = `embedded PostgreSQL (PGlite) in ${dir}`;
  }

  const redis = config.redisUrl
    ? createRedis({
        url: config.redisUrl,
        connectionName: `stratus:${config.nodeId}`,
        onError: (err) => logger.warn({ err: err.message }, 'redis connection error'),
      })
    : undefined;

  const readinessChecks: ReadinessCheck[] = [
    {
      name: 'database',
      async check() {
        const pending = await pendingMigrations(db, migrations);
        if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
      },
    },
  ];
  if (redis) readinessChecks.push({ name: 'redis', check: () => pingRedis(redis) });

  return {
    db,
    redis,
    description: `${where}; ${redis ? `Redis at ${new URL(config.redisUrl!).host}` : 'no Redis'}`,
    readinessChecks,
    async close() {
      redis?.disconnect();
      await db.close();
      releaseDir?.();
    },
  };
}

/** Applies pending migrations; returns the versions applied. Safe to run from many replicas at once. */
export function applyMigrations(db: Database): Promise<number[]> {
  return migrate(db, migrations);
}
