// Time for the policies: a monotonic clock and one-shot timers, injectable so that tests
// drive time by hand instead of sleeping.

/** A monotonic clock in milliseconds. Only differences between readings mean anything. */
export interface Clock {
  /** Current monotonic time in milliseconds. */
  now(): number;
}

/** Handle of a timer armed by a {@link Scheduler}. */
export type TimerHandle = unknown;

/** A clock that can also run a callback later. */
export interface Scheduler extends Clock {
  /** Runs `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; a no-op when it already ran. */
  clearTimer(handle: TimerHandle): void;
  /**
   * Says whether an armed timer should keep the process alive. A shared deadline timer is
   * released while nothing waits on it, so an idle policy never delays the process's exit.
   */
  holdTimer?(handle: TimerHandle, hold: boolean): void;
}

/**
 * The process clock: `performance.now()` (monotonic, unlike `Date.now()`, which jumps
 * with NTP) and Node's timers.
 */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  holdTimer: (handle, hold) => {
    const timer = handle as ReturnType<typeof setTimeout>;
    if (hold) timer.ref();
    else timer.unref();
  },
};

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Timers run, in deadline order, when
 * {@link ManualClock.advance} passes their deadline; nothing runs on its own.
 */
export class ManualClock implements Scheduler {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  /** @param start the initial reading */
  constructor(start = 0) {
    this.time = start;
  }

  /** @inheritdoc */
  now(): number {
    return this.time;
  }

  /** @inheritdoc */
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = {
      at: this.time + Math.max(0, delayMs),
      seq: this.seq++,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return timer;
  }

  /** @inheritdoc */
  clearTimer(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
    this.timers = this.timers.filter((t) => t !== handle);
  }

  /** Number of timers armed and not yet run. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, running every timer whose deadline is passed, in order,
   * with the clock set to each timer's deadline while it runs.
   */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = this.earliestDue(target);
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      if (!next.cancelled) next.callback();
    }
    this.time = target;
  }

  /** Sets the clock to `time` (not backwards), running due timers like {@link advance}. */
  set(time: number): void {
    this.advance(Math.max(0, time - this.time));
  }

  private earliestDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= limit && (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq))) {
        best = t;
      }
    }
    return best;
  }
}
