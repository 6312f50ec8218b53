// The process bench/memory.ts measures: `stratus start` from the compiled build (the same
// loadConfig and startApp as bin/stratus.js) with one job kind registered, `bench.noop`, that
// does nothing. On the embedded default only this process can reach its database, so it also
// enqueues the benchmark's jobs through its own outbox when the parent asks over IPC; on
// PostgreSQL the parent enqueues them through the shared database.
import { loadConfig } from '../dist/config/index.js';
import { enqueueBatch } from '../dist/ha/outbox/outbox.js';
import { startApp } from '../dist/runtime/app.js';
import { createLogger } from '../dist/runtime/logger.js';

const config = loadConfig({ args: process.argv.slice(2), env: process.env });
const logger = createLogger({ level: config.logLevel, nodeId: config.nodeId, role: config.role });
const app = await startApp(config, { logger, handlers: { 'bench.noop': async () => {} } });
process.send({ type: 'ready', url: app.url });

process.on('message', async (message) => {
  if (message.type === 'enqueue') {
    for (let i = 0; i < message.count; i += 100) {
      const jobs = [];
      for (let j = i; j < Math.min(message.count, i + 100); j++) {
        jobs.push({ key: `${message.prefix}${j}`, kind: 'bench.noop', payload: { j } });
      }
      await app.stores.db.transaction((tx) => enqueueBatch(tx, jobs));
    }
    process.send({ type: 'enqueued' });
  } else if (message.type === 'count') {
    const res = await app.stores.db.query(
      "SELECT count(*)::int AS n FROM stratus_ledger WHERE state = 'completed' AND job_key LIKE $1",
      [`${message.prefix}%`],
    );
    process.send({ type: 'count', n: res.rows[0].n });
  }
});
process.once('SIGTERM', async () => {
  const clean = await app.shutdown('SIGTERM');
  process.exit(clean ? 0 : 1);
});
