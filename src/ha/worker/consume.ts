import { parseEnvelope } from '../job/envelope.js';
import { coerceError } from '../job/logger.js';
import { delay } from '../job/wake.js';
import type { Delivery } from '../queue/port.js';
import type { WorkerContext } from './context.js';
import type { LeasePump } from './lease-pump.js';
import { type ResolvedHandler, unknownKindHandler } from './registrations.js';
import type { Verdicts } from './verdicts.js';

/**
 * A message of a full kind is given back due a little later, and later again while the kind
 * stays full: 100 ms doubling, up to the kind's lease. At once, this worker's next receive
 * would take the same messages back — on the PostgreSQL queue they come first again, by id —
 * and a backlog of a slow kind would keep every other kind's messages out of reach (a worker
 * serving a blocked kind and a free one ran none of the free one's 30 jobs in 20 s).
 */
const GIVE_BACK_BASE_MS = 100;

/** Most messages held, counting those being completed, as a multiple of the concurrency. */
const COMPLETING_ROOM = 6;

/** Pause after a failed round of the consume loop, growing to 5 s: an outage is not hammered. */
export function loopBackoff(failures: number): number {
  return Math.random() * Math.min(5_000, 100 * 2 ** Math.min(failures, 6));
}

/**
 * The receive side: reads what there is room for, parses, and holds each message as a waiting
 * job — or gives it back at once when its KIND has no room. Room is counted per kind (twice its
 * concurrency: running + leased ahead), not per worker: a worker with room for 100 messages
 * used to hold all 20 jobs of a kind with concurrency 1, touching them so no other worker could
 * take them, and ran them one by one (9.8 s where two workers need ~5 s).
 */
export function createConsumer(ctx: WorkerContext, verdicts: Verdicts, pump: LeasePump) {
  const { table, queue, logger, settings } = ctx;
  /** Per kind, messages given back since the kind last had room: the give-back delay grows with it. */
  const fullStreak = new Map<string, number>();

  /** Admits received messages; returns how many were given back for lack of room in their kind. */
  async function admit(deliveries: readonly Delivery[]): Promise<{ admitted: number; givenBack: number }> {
    let admitted = 0;
    let givenBack = 0;
    for (const d of deliveries) {
      if (table.hasMessage(d.id)) continue; // our own message came back by reclaim: we still hold it
      const parsed = parseEnvelope(d.body);
      if (!parsed.ok) {
        await verdicts.deadLetterMessage(d, undefined, `unparseable message: ${parsed.reason}`);
        continue;
      }
      const job = parsed.job;
      let reg: ResolvedHandler | undefined = ctx.handlers.get(job.kind);
      if (!reg) {
        logger.error({ messageId: d.id, jobKey: job.key, kind: job.kind }, 'worker: unknown job kind');
        reg = unknownKindHandler(job.kind, settings.concurrency);
        ctx.handlers.set(job.kind, reg);
      }
      if (table.hasKey(job.key)) {
        // A second copy of a job we are running: bring it back once our lease has ended. Not a
        // delivery that counts towards the limit: the copy was never worked on.
        await queue.release(d.id, reg.leaseMs, { unworked: true }).catch((err: unknown) => {
          logger.warn({ err: coerceError(err), jobKey: job.key }, 'worker: release of a duplicate failed');
        });
        continue;
      }
      if (table.roomInUse(job.kind) >= 2 * reg.concurrency) {
        // No room in its kind: another worker may have some. Not a delivery: nothing was tried.
        givenBack++;
        const streak = (fullStreak.get(job.kind) ?? 0) + 1;
        fullStreak.set(job.kind, streak);
        const delayMs = Math.min(reg.leaseMs, GIVE_BACK_BASE_MS * 2 ** Math.min(streak - 1, 16));
        await queue.release(d.id, delayMs, { unworked: true }).catch((err: unknown) => {
          logger.warn({ err: coerceError(err), jobKey: job.key }, 'worker: giving back a message failed');
        });
        continue;
      }
      fullStreak.delete(job.kind);
      table.admit(d, job, reg);
      admitted++;
    }
    ctx.metrics.inFlight.set(table.size);
    // Not awaited: the loop goes on receiving while the leases are taken, and lease requests
    // that pile up meanwhile share one statement with pending completions (LedgerBatcher).
    pump.kick();
    return { admitted, givenBack };
  }

  /** Messages the kinds served could still admit (twice their concurrency each, minus what they hold). */
  function kindRoom(): number {
    let room = 0;
    for (const reg of ctx.handlers.values())
      room += Math.max(0, 2 * reg.concurrency - table.roomInUse(reg.kind));
    return room;
  }

  /** The consume loop, until `signal` aborts. */
  async function consume(signal: AbortSignal): Promise<void> {
    let lastReclaim = 0;
    let failures = 0;
    const { concurrency } = settings;
    while (!signal.aborted) {
      try {
        // Up to twice the concurrency held before completion (running + prefetched), and room for
        // four more concurrencies' worth being completed (ledger write, then ack). Those hold no
        // lease and no handler slot, so this room takes no work away from other workers, and a
        // job spends longer completing than being received and leased: with room for only one
        // concurrency's worth, the receive mostly waited on completions (measured at concurrency
        // 50: about 88 of the 150 messages held were completing). Memory stays bounded by six
        // times the concurrency.
        // And never more than the kinds this worker serves have room for: a worker whose only
        // kind has concurrency 1 reads two messages at a time, not a hundred it would give back.
        const free = Math.min(
          2 * concurrency - (table.size - table.completing),
          COMPLETING_ROOM * concurrency - table.size,
          kindRoom(),
        );
        if (free <= 0) {
          await ctx.slotFreed.wait(settings.receiveBlockMs, signal);
          continue;
        }
        if (pump.ledgerFailures() > 0) await delay(loopBackoff(pump.ledgerFailures()), signal);
        let got: Delivery[] = [];
        if (Date.now() - lastReclaim >= settings.reclaimMs) {
          lastReclaim = Date.now();
          got = await queue.reclaim(free);
          if (got.length > 0) logger.info({ count: got.length }, 'worker: reclaimed idle messages');
        }
        if (got.length === 0)
          got = await queue.receive(Math.min(free, settings.batchSize), settings.receiveBlockMs, signal);
        const { admitted, givenBack } = await admit(got);
        // Everything went back for lack of room in its kind: receiving again at once would take
        // the same messages back before another worker could. Wait for a slot to free.
        if (givenBack > 0 && admitted === 0) await ctx.slotFreed.wait(settings.receiveBlockMs, signal);
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err: coerceError(err), failures }, 'worker: consume round failed, backing off');
        await delay(loopBackoff(failures), signal);
      }
    }
  }

  return { consume };
}
