import type { LeaderKey } from '../../ha/leader/keys.js';
import { type ControllerDefinition, defineController } from '../framework/define.js';
import { type MinutePrice, minutePrices } from './prices.js';
import { recordMinutes } from './record.js';

/** The default length of an accounting minute: a minute. Tests shorten it (ACCOUNTING_MINUTE_MS). */
export const DEFAULT_ACCOUNTING_MINUTE_MS = 60_000;

/** Options of {@link accountingController}. */
export interface AccountingOptions {
  readonly leaderKey: LeaderKey;
  /** Default {@link DEFAULT_ACCOUNTING_MINUTE_MS}. */
  readonly minuteMs?: number;
  /** Between two passes with nothing due; default a quarter of a minute. */
  readonly resyncMs?: number;
  /** Lifetimes per fenced transaction. Default 200. */
  readonly batchLifetimes?: number;
  /** Minutes per lifetime per fenced transaction. Default 60 (at most 12,000 rows a transaction). */
  readonly batchMinutes?: number;
  /**
   * Which minutes are over: the pass's clock (ms since the Unix epoch). Default the
   * database's, the clock that stamped the lifetimes, so a replica's skewed clock cannot record
   * a minute that has not ended.
   */
  readonly clock?: () => number;
  readonly prices?: readonly MinutePrice[];
}

/**
 * The accounting controller: every minute of every resource's life recorded exactly once,
 * with no gaps, across failovers. Each pass records the minutes that ended since each
 * lifetime's watermark, in bounded batches, fenced by its term (docs/controllers.md).
 */
export function accountingController(options: AccountingOptions): ControllerDefinition {
  const minuteMs = options.minuteMs ?? DEFAULT_ACCOUNTING_MINUTE_MS;
  const prices = options.prices ?? minutePrices();
  const batch = { lifetimes: options.batchLifetimes ?? 200, minutes: options.batchMinutes ?? 60 };
  return defineController({
    name: 'accounting',
    leaderKey: options.leaderKey,
    resyncMs: options.resyncMs ?? Math.max(50, Math.floor(minuteMs / 4)),
    // A minute is owed from the clock, not from a change: creations and deletions only make
    // the next pass come sooner (a deleted resource's lifetime closes).
    wakeOnKinds: [],
    async pass(ctx) {
      const at = options.clock?.();
      const r = await ctx.fenced((tx) =>
        recordMinutes(tx, { at, minuteMs, epoch: ctx.epoch, prices, ...batch }),
      );
      const more = r.lifetimes === batch.lifetimes || r.behind > 0;
      return { more, lagMs: r.oldestMs === undefined ? 0 : Math.max(0, r.cutoffMs - r.oldestMs) };
    },
  });
}
