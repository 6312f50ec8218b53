import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Config, optionsAt } from '../config/index.js';
import { LeaderGuard } from '../ha/leader/guard.js';
import type { LeaderKey } from '../ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../ha/leader/memory-elector.js';
import { createLeaderMetrics } from '../ha/leader/metrics.js';
import { createPgElector } from '../ha/leader/pg-elector.js';
import type { Elector } from '../ha/leader/port.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import type { Stores } from './stores.js';

/**
 * The elector of this process: session advisory locks on PostgreSQL, or, on the embedded
 * database (one process by construction), an in-process elector that still begins its terms
 * in the database so that fenced writes work the same way.
 */
export function createElector(config: Config, stores: Stores, logger: Logger): Elector {
  if (config.databaseUrl) {
    return createPgElector({
      connectionString: config.databaseUrl,
      nodeId: config.nodeId,
      logger,
      settings: optionsAt(config, 'elector'),
    });
  }
  const { fencedStatementTimeoutMs, fencedIdleTimeoutMs, fencedDeadlineMs } = config;
  return new MemoryElector(config.nodeId, new MemoryLeadership(), stores.db, {
    fencedStatementTimeoutMs,
    fencedIdleTimeoutMs,
    fencedDeadlineMs,
  });
}

/** Runs `runnable` only while this process leads `key`. */
export function leaderGuarded(
  runnable: Runnable,
  key: LeaderKey,
  elector: Elector,
  config: Config,
  logger: Logger,
  registry: Registry,
): Runnable {
  return new LeaderGuard({
    ...optionsAt(config, 'guard'),
    elector,
    key,
    name: `leader:${runnable.name}`,
    logger,
    metrics: createLeaderMetrics(registry),
    run: (signal) => runnable.start(signal),
    onEvent: (event) => {
      if (event.type === 'elected')
        logger.info({ key: event.key, epoch: event.epoch }, `leading ${event.key}`);
      else if (event.type === 'ended')
        logger.info(
          { key: event.key, epoch: event.epoch, reason: event.reason },
          `stopped leading ${event.key}`,
        );
    },
  });
}
