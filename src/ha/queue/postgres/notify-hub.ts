import type { Database } from '../../db/database.js';
import type { QueueLogger } from '../port.js';

/** The channel add.sql notifies, with the queue name as payload. */
export const QUEUE_CHANNEL = 'stratus_queue';

/** A registration made before looking for messages, so a NOTIFY sent meanwhile is not missed. */
export interface Wakeup {
  /** Resolves on a notification for the queue (since arming), after `ms`, or when a signal aborts. */
  wait(ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void>;
  /** Unregisters; call it in every case. */
  cancel(): void;
}

/**
 * One LISTEN per database, shared by every queue handle on it: the `pg` driver spends a
 * dedicated session on each listen, and 200 consumers must not cost 200 sessions. When LISTEN
 * is unavailable or its session dropped, waiters fall back to their poll interval.
 */
class NotifyHub {
  readonly #waiters = new Map<string, Set<() => void>>();
  #refs = 0;
  #listening: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(
    private readonly db: Database,
    private readonly logger?: QueueLogger,
  ) {}

  acquire(): void {
    this.#refs++;
  }

  async release(): Promise<void> {
    this.#refs--;
    if (this.#refs > 0) return;
    const listening = this.#listening;
    this.#listening = undefined;
    hubs.delete(this.db);
    const unlisten = await listening;
    await unlisten?.().catch(() => {});
  }

  /** Starts listening once; a failure is logged and retried by the next caller. */
  listen(): Promise<unknown> {
    if (this.#listening === undefined) {
      this.#listening = this.db
        .listen(QUEUE_CHANNEL, (queue) => {
          for (const wake of this.#waiters.get(queue) ?? []) wake();
        })
        .catch((err: unknown) => {
          this.logger?.warn({ err }, 'queue LISTEN failed; receivers poll');
          this.#listening = undefined;
          return undefined;
        });
    }
    return this.#listening;
  }

  arm(queue: string): Wakeup {
    let set = this.#waiters.get(queue);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(queue, set);
    }
    const waiters = set;
    let notified = false;
    let done: (() => void) | undefined;
    const wake = () => {
      notified = true;
      done?.();
    };
    waiters.add(wake);
    const cancel = () => {
      waiters.delete(wake);
      if (waiters.size === 0 && this.#waiters.get(queue) === waiters) this.#waiters.delete(queue);
    };
    return {
      cancel,
      wait(ms, signals) {
        if (notified || signals.some((s) => s?.aborted)) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const finish = () => {
            clearTimeout(timer);
            for (const s of signals) s?.removeEventListener('abort', finish);
            done = undefined;
            resolve();
          };
          const timer = setTimeout(finish, ms);
          for (const s of signals) s?.addEventListener('abort', finish, { once: true });
          done = finish;
        });
      },
    };
  }
}

const hubs = new WeakMap<Database, NotifyHub>();

/** The hub of `db`, counted as used until `release()`. */
export function acquireNotifyHub(db: Database, logger?: QueueLogger): NotifyHub {
  let hub = hubs.get(db);
  if (hub === undefined) {
    hub = new NotifyHub(db, logger);
    hubs.set(db, hub);
  }
  hub.acquire();
  return hub;
}

export type { NotifyHub };
