import { Registry } from 'prom-client';
import type { AcquireResult, ExecutionLedger, Lease } from '../ledger/port.js';
import { createPostgresLedger } from '../ledger/postgres-ledger.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Delivery } from '../queue/port.js';
import { parseEnvelope } from './envelope.js';
import { LeaseLostError, WorkerShutdownError } from './errors.js';
import { type Execution, execute } from './execution.js';
import { LedgerBatcher } from './ledger-batcher.js';
import { coerceError, silentLogger } from './logger.js';
import { kindMetrics, registerQueueGauges, workerMetrics } from './metrics.js';
import { type ResolvedHandler, resolveHandlers, unknownKindHandler } from './registrations.js';
import type { WorkerOptions } from './types.js';
import { createVerdicts, type Held } from './verdicts.js';
import { delay, Waker } from './wake.js';

export interface Worker extends Runnable {
  /** Messages held now (waiting, running or completing): for tests and health. */
  held(): number;
}

/** Most messages held, counting those being completed, as a multiple of the concurrency. */
const COMPLETING_ROOM = 6;

/** Pause after a failed round of the consume loop, growing to 5 s: an outage is not hammered. */
function loopBackoff(failures: number): number {
  return Math.random() * Math.min(5_000, 100 * 2 ** Math.min(failures, 6));
}

/**
 * The durable worker: ONE consume / lease / heartbeat / ack loop for every job kind.
 *
 * - receive only what there is room for: at most twice the concurrency held before completion
 *   (running + leased ahead), so a backlog never grows memory;
 * - take the ledger leases of a batch in one statement, shared with the pending completions;
 *   run each handler with an AbortSignal;
 * - heartbeat every 0.5 s: one statement extends every lease held, then the messages'
 *   idle times are reset; a lost lease aborts its handler;
 * - success: ledger complete (batched), THEN ack (batched); failure: delayed retry with
 *   full-jitter backoff; last attempt or terminal error: dead letter with the reason;
 * - on shutdown: stop receiving, let in-flight jobs finish until the drain deadline, then
 *   give their leases and messages back.
 */
export function createWorker(options: WorkerOptions): Worker {
  const maybeLedger = options.ledger ?? (options.db ? createPostgresLedger(options.db) : undefined);
  if (!maybeLedger) throw new TypeError('createWorker needs a ledger or a db');
  const ledger: ExecutionLedger = maybeLedger;
  const { queue, nodeId } = options;
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  const concurrency = options.concurrency ?? 50;
  const batchSize = options.batchSize ?? 2 * concurrency;
  // These three bound how soon a dead worker's job runs again: see DEFAULT_LEASE_MS.
  const heartbeatMs = options.heartbeatMs ?? 500;
  const reclaimMs = options.reclaimMs ?? 500;
  const promoteMs = options.promoteMs ?? 250;
  const receiveBlockMs = options.receiveBlockMs ?? 500;
  const drainMs = options.drainMs ?? 10_000;
  const abortGraceMs = options.abortGraceMs ?? 1_000;
  const handlers = resolveHandlers(options.handlers, concurrency);
  const metrics = workerMetrics(registry);
  const perKind = kindMetrics(metrics);
  registerQueueGauges(registry, queue);

  /** Every message this worker holds, by message id. */
  const held = new Map<string, Held>();
  /** The message this worker holds for each job key (a second copy is not run alongside). */
  const byKey = new Map<string, Held>();
  /** Messages without a lease yet, FIFO per kind. */
  const waiting = new Map<string, Held[]>();
  /** Leased messages waiting for a handler slot, FIFO per kind. */
  const ready = new Map<string, Held[]>();
  /** Per kind: leases being taken, leases held and not started, handlers running. */
  const leasedByKind = new Map<string, number>();
  const runningByKind = new Map<string, number>();
  const slotFreed = new Waker();
  let stopping = false;

  const forget = (h: Held) => {
    if (held.get(h.delivery.id) === h) held.delete(h.delivery.id);
    if (byKey.get(h.job.key) === h) byKey.delete(h.job.key);
    metrics.inFlight.set(held.size);
    slotFreed.wake();
  };
  const batcher = new LedgerBatcher(ledger, nodeId);
  const verdicts = createVerdicts({
    ledger,
    complete: (leases) => batcher.complete(leases),
    queue,
    logger,
    metrics: perKind,
    forget,
    onDeadLetter: options.onDeadLetter,
    random: options.random ?? Math.random,
    isStopping: () => stopping,
    onCompleted: () => slotFreed.wake(),
  });

  const count = (m: Map<string, number>, kind: string) => m.get(kind) ?? 0;
  const add = (m: Map<string, number>, kind: string, n: number) => m.set(kind, count(m, kind) + n);
  const fifo = (m: Map<string, Held[]>, kind: string) => {
    let list = m.get(kind);
    if (!list) {
      list = [];
      m.set(kind, list);
    }
    return list;
  };
  /** Failed lease batches in a row: the consume loop backs off while the ledger is unreachable. */
  let ledgerFailures = 0;
  const kick = () => {
    void pump().then(
      (took) => {
        if (took) ledgerFailures = 0;
      },
      (err: unknown) => {
        ledgerFailures++;
        logger.warn({ err: coerceError(err), failures: ledgerFailures }, 'worker: lease batch failed');
      },
    );
  };

  function run(h: Held, lease: Lease): void {
    h.phase = 'running';
    const { job, reg } = h;
    add(runningByKind, job.kind, 1);
    const m = perKind(job.kind);
    m.started.inc();
    if (lease.attempt === 1 && job.enqueuedAt > 0) {
      m.dispatchLatency.observe(Math.max(0, Date.now() - job.enqueuedAt) / 1000);
    }
    logger.debug({ jobKey: job.key, attempt: lease.attempt, kind: job.kind }, 'job started');
    const startedAt = performance.now();
    const execution: Execution = execute(
      reg.handler,
      { job, attempt: lease.attempt, token: lease.token, clientToken: job.key },
      reg.timeoutMs,
      abortGraceMs,
    );
    h.execution = execution;
    void execution.done
      .then(async (outcome) => {
        if (held.get(h.delivery.id) !== h) return;
        add(runningByKind, job.kind, -1);
        add(leasedByKind, job.kind, -1);
        kick();
        slotFreed.wake();
        m.duration(outcome.kind).observe((performance.now() - startedAt) / 1000);
        await verdicts.settle(h, outcome);
      })
      .catch((err: unknown) =>
        logger.error({ err: coerceError(err), jobKey: job.key }, 'worker: settle failed'),
      );
  }

  /** Starts leased jobs while their kind has a free handler slot. */
  function startReady(): void {
    if (stopping) return; // the drain hands leased, unstarted jobs back
    for (const [kind, list] of ready) {
      const reg = handlers.get(kind)!;
      while (list.length > 0 && count(runningByKind, kind) < reg.concurrency) {
        const h = list.shift()!;
        run(h, h.lease!);
      }
    }
  }

  /**
   * Starts what can start, then takes the leases of waiting messages in ONE statement (shared
   * with the completions pending at that moment, see LedgerBatcher). A kind
   * may hold leases for up to twice its concurrency: the next batch is leased while the current
   * one runs, and such prefetched leases are short (4 s), so after a crash they come back in
   * seconds.
   */
  async function pump(): Promise<boolean> {
    startReady();
    if (stopping) return false;
    const batch: Held[] = [];
    for (const [kind, list] of waiting) {
      const reg = handlers.get(kind)!;
      while (list.length > 0 && count(leasedByKind, kind) < 2 * reg.concurrency) {
        const h = list.shift()!;
        h.phase = 'acquiring';
        add(leasedByKind, kind, 1);
        batch.push(h);
      }
    }
    if (batch.length === 0) return false;
    const sentAt = Date.now();
    let results: AcquireResult[];
    try {
      results = await batcher.acquire(batch.map((h) => ({ jobKey: h.job.key, leaseMs: h.reg.leaseMs })));
    } catch (err) {
      // Without the ledger nothing may run: drop the messages here; they stay pending in the
      // queue and come back by reclaim after the visibility timeout.
      for (const h of batch) {
        add(leasedByKind, h.job.kind, -1);
        forget(h);
      }
      throw err;
    }
    const refused: Held[] = [];
    batch.forEach((h, i) => {
      const r = results[i]!;
      if (r.acquired) {
        h.lease = r.lease;
        h.renewedAt = sentAt;
        const max = h.job.maxAttempts ?? h.reg.maxAttempts;
        if (r.lease.attempt > max) {
          // Earlier attempts never reported back (their workers died): the job may be what kills them.
          add(leasedByKind, h.job.kind, -1);
          void verdicts.deadLetterJob(
            h,
            `attempt ${r.lease.attempt} exceeds max attempts ${max}: earlier attempts never finished`,
          );
        } else {
          h.phase = 'leased';
          fifo(ready, h.job.kind).push(h);
        }
      } else {
        add(leasedByKind, h.job.kind, -1);
        h.refusal = r.refusal;
        refused.push(h);
      }
    });
    startReady();
    await verdicts.refused(refused);
    return true;
  }

  /**
   * Parses received messages and queues them for a slot; dead-letters what is not a job. A job
   * of an unknown kind goes the way of any job and is failed for good under its lease.
   */
  async function admit(deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) {
      if (held.has(d.id)) continue; // our own message came back by reclaim: we still hold it
      const parsed = parseEnvelope(d.body);
      if (!parsed.ok) {
        await verdicts.deadLetterMessage(d, undefined, `unparseable message: ${parsed.reason}`);
        continue;
      }
      const job = parsed.job;
      let reg: ResolvedHandler | undefined = handlers.get(job.kind);
      if (!reg) {
        logger.error({ messageId: d.id, jobKey: job.key, kind: job.kind }, 'worker: unknown job kind');
        reg = unknownKindHandler(job.kind, concurrency);
        handlers.set(job.kind, reg);
      }
      if (byKey.has(job.key)) {
        // A second copy of a job we are running: bring it back once our lease has ended.
        await queue.release(d.id, reg.leaseMs).catch((err: unknown) => {
          logger.warn({ err: coerceError(err), jobKey: job.key }, 'worker: release of a duplicate failed');
        });
        continue;
      }
      const h: Held = { delivery: d, job, reg, phase: 'waiting', lost: false, renewedAt: 0 };
      held.set(d.id, h);
      byKey.set(job.key, h);
      fifo(waiting, job.kind).push(h);
    }
    metrics.inFlight.set(held.size);
    // Not awaited: the loop goes on receiving while the leases are taken, and lease requests
    // that pile up meanwhile share one statement with pending completions (LedgerBatcher).
    kick();
  }

  async function consume(signal: AbortSignal): Promise<void> {
    let lastReclaim = 0;
    let failures = 0;
    while (!signal.aborted) {
      try {
        // Up to twice the concurrency held before completion (running + prefetched), and room for
        // four more concurrencies' worth being completed (ledger write, then ack). Those hold no
        // lease and no handler slot, so this room takes no work away from other workers, and a
        // job spends longer completing than being received and leased: with room for only one
        // concurrency's worth, the receive mostly waited on completions (measured at concurrency
        // 50: about 88 of the 150 messages held were completing). Memory stays bounded by six
        // times the concurrency.
        const free = Math.min(
          2 * concurrency - (held.size - verdicts.completing()),
          COMPLETING_ROOM * concurrency - held.size,
        );
        if (free <= 0) {
          await slotFreed.wait(receiveBlockMs, signal);
          continue;
        }
        if (ledgerFailures > 0) await delay(loopBackoff(ledgerFailures), signal);
        let got: Delivery[] = [];
        if (Date.now() - lastReclaim >= reclaimMs) {
          lastReclaim = Date.now();
          got = await queue.reclaim(free);
          if (got.length > 0) logger.info({ count: got.length }, 'worker: reclaimed idle messages');
        }
        if (got.length === 0) got = await queue.receive(Math.min(free, batchSize), receiveBlockMs, signal);
        await admit(got);
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err: coerceError(err), failures }, 'worker: consume round failed, backing off');
        await delay(loopBackoff(failures), signal);
      }
    }
  }

  function markLost(h: Held, why: string): void {
    if (h.lost) return;
    h.lost = true;
    logger.warn(
      { jobKey: h.job.key, attempt: h.lease?.attempt, why },
      'worker: lease lost, aborting the job',
    );
    h.execution?.controller.abort(new LeaseLostError(h.job.key));
  }

  async function heartbeat(): Promise<void> {
    const leased = [...held.values()].filter((h) => h.lease && !h.lost);
    if (leased.length > 0) {
      const sentAt = Date.now();
      try {
        const lost = new Set(
          await ledger.heartbeat(
            leased.map((h) => ({ jobKey: h.job.key, token: h.lease!.token, leaseMs: h.reg.leaseMs })),
          ),
        );
        for (const h of leased) {
          if (lost.has(h.job.key)) markLost(h, 'the ledger refused the heartbeat');
          else h.renewedAt = sentAt;
        }
      } catch (err) {
        logger.warn({ err: coerceError(err), leases: leased.length }, 'worker: ledger heartbeat failed');
      }
      // Not renewed for a whole lease: it has expired on the database clock by now.
      for (const h of leased) {
        if (!h.lost && Date.now() - h.renewedAt > h.reg.leaseMs) markLost(h, 'lease not renewed in time');
      }
    }
    if (held.size > 0) {
      await queue.touch([...held.keys()]).catch((err: unknown) => {
        logger.warn({ err: coerceError(err) }, 'worker: touch failed');
      });
    }
  }

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

  /** Gives back what never started: unleased messages at once, prefetched leases uncounted. */
  async function handBackUnstarted(): Promise<void> {
    const unleased = [...waiting.values()].flat();
    const leased = [...ready.values()].flat();
    waiting.clear();
    ready.clear();
    for (const h of leased) add(leasedByKind, h.job.kind, -1);
    if (leased.length > 0) {
      await ledger
        .release(leased.map((h) => ({ jobKey: h.job.key, token: h.lease!.token })))
        .catch((err: unknown) =>
          logger.warn({ err: coerceError(err) }, 'worker: releasing unused leases failed'),
        );
    }
    await Promise.all(
      [...unleased, ...leased].map((h) => {
        forget(h);
        return queue.release(h.delivery.id, 0).catch(() => {});
      }),
    );
  }

  async function drain(): Promise<void> {
    stopping = true;
    await handBackUnstarted();
    const deadline = Date.now() + drainMs;
    while (held.size > verdicts.completing() && Date.now() < deadline) {
      await slotFreed.wait(Math.min(100, deadline - Date.now()));
      await handBackUnstarted(); // leases a batch in flight took after the drain began
    }
    const late = [...held.values()].filter((h) => h.phase === 'running');
    if (late.length > 0) logger.warn({ jobs: late.length }, 'worker: drain deadline passed, releasing jobs');
    for (const h of late) h.execution?.controller.abort(new WorkerShutdownError());
    const giveUp = Date.now() + abortGraceMs + 2_000;
    while (held.size > 0 && Date.now() < giveUp) await slotFreed.wait(Math.min(100, giveUp - Date.now()));
    await verdicts.flushed();
    for (const h of held.values()) forget(h);
  }

  return {
    name: 'job-worker',
    held: () => held.size,
    async start(signal) {
      const timers = new AbortController();
      const loops = [
        every(heartbeatMs, timers.signal, 'heartbeat', heartbeat),
        every(promoteMs, timers.signal, 'promotion of delayed retries', () => queue.promoteDelayed()),
        every(60_000, timers.signal, 'removal of dead consumers', () => queue.removeDeadConsumers(300_000)),
      ];
      logger.info({ nodeId, kinds: [...handlers.keys()], concurrency }, 'worker: started');
      try {
        await consume(signal);
      } finally {
        await drain();
        timers.abort();
        await Promise.all(loops);
        logger.info({ nodeId }, 'worker: stopped');
      }
    },
  };
}
