import { Registry } from 'prom-client';
import { coerceError, silentLogger } from '../job/logger.js';
import { delay, Waker } from '../job/wake.js';
import type { ExecutionLedger } from '../ledger/port.js';
import { createPostgresLedger } from '../ledger/postgres-ledger.js';
import type { Runnable } from '../lifecycle/runnable.js';
import { createConsumer } from './consume.js';
import type { WorkerContext } from './context.js';
import { drain } from './drain.js';
import { heartbeat } from './heartbeat.js';
import { JobTable } from './job-table.js';
import { createLeasePump } from './lease-pump.js';
import { LedgerBatcher } from './ledger-batcher.js';
import { kindMetrics, registerQueueGauges, workerMetrics } from './metrics.js';
import { resolveHandlers } from './registrations.js';
import { resolveSettings } from './settings.js';
import type { WorkerOptions } from './types.js';
import { createVerdicts } from './verdicts.js';

export interface Worker extends Runnable {
  /** Messages held now (waiting, running or completing): for tests and health. */
  held(): number;
}

/**
 * The durable worker: ONE consume / lease / heartbeat / ack loop for every job kind. Each
 * message it holds is one `HeldJob` whose state machine (`held-job.ts`) every part moves:
 *
 * - receive (`consume.ts`) only what there is room for, per kind: twice its concurrency
 *   (running + leased ahead); the rest goes back to the queue for other workers;
 * - lease (`lease-pump.ts`) a batch in one statement, shared with pending completions; run
 *   each handler with an AbortSignal;
 * - heartbeat (`heartbeat.ts`) every 0.5 s: one statement extends every lease held, then the
 *   messages' idle times are reset; a lost lease aborts its handler, or keeps it from starting;
 * - verdicts (`verdicts.ts`): ledger complete THEN ack (batched); delayed retry with full
 *   jitter; dead letter, recorded in the ledger and reported once per job;
 * - drain (`drain.ts`) on shutdown: stop receiving, let in-flight jobs finish until the
 *   deadline, then hand their leases and messages back without costing an attempt.
 */
export function createWorker(options: WorkerOptions): Worker {
  const maybeLedger = options.ledger ?? (options.db ? createPostgresLedger(options.db) : undefined);
  if (!maybeLedger) throw new TypeError('createWorker needs a ledger or a db');
  const ledger: ExecutionLedger = maybeLedger;
  const { queue, nodeId } = options;
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  const settings = resolveSettings(options);
  const metrics = workerMetrics(registry);
  registerQueueGauges(registry, queue);
  const slotFreed = new Waker();
  const table = new JobTable(() => {
    metrics.inFlight.set(table.size);
    slotFreed.wake();
  });
  const ctx: WorkerContext = {
    nodeId,
    ledger,
    batcher: new LedgerBatcher(ledger, nodeId),
    queue,
    logger,
    metrics,
    perKind: kindMetrics(metrics),
    table,
    handlers: resolveHandlers(options.handlers, settings.concurrency, settings.heartbeatMs),
    settings,
    slotFreed,
    onDeadLetter: options.onDeadLetter,
    random: options.random ?? Math.random,
    stopping: false,
  };
  const verdicts = createVerdicts(ctx);
  const pump = createLeasePump(ctx, verdicts);
  const { consume } = createConsumer(ctx, verdicts, pump);

  async function every(ms: number, signal: AbortSignal, what: string, fn: () => Promise<unknown>) {
    while (!signal.aborted) {
      await delay(ms, signal);
      if (signal.aborted) break;
      try {
        await fn();
      } catch (err) {
        logger.warn({ err: coerceError(err) }, `worker: ${what} failed`);
      }
    }
  }

  return {
    name: 'job-worker',
    held: () => table.size,
    async start(signal) {
      const timers = new AbortController();
      const loops = [
        every(settings.heartbeatMs, timers.signal, 'heartbeat', () => heartbeat(ctx)),
        every(settings.promoteMs, timers.signal, 'promotion of delayed retries', () =>
          queue.promoteDelayed(),
        ),
        every(60_000, timers.signal, 'removal of dead consumers', () => queue.removeDeadConsumers(300_000)),
      ];
      logger.info(
        { nodeId, kinds: [...ctx.handlers.keys()], concurrency: settings.concurrency },
        'worker: started',
      );
      try {
        await consume(signal);
      } finally {
        await drain(ctx, verdicts);
        timers.abort();
        await Promise.all(loops);
        logger.info({ nodeId }, 'worker: stopped');
      }
    },
  };
}
