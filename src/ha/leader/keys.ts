/**
 * The registry of leadership keys. Each key has a name (logs, metrics, journal) and a
 * checked-in integer id, which is the second half of the two-integer advisory lock
 * `(LockClass.leadership, id)`: ids are assigned by hand, never hashed from names, so two
 * keys can never share a lock and renaming a key keeps its lock.
 *
 * Ids 1-99 are reserved for the kernel; an application registers its own keys (for the
 * control plane: reconcile, heal, autoscale, cron, accounting, lb-sync, gc, outbox-sweeper)
 * with ids from 100 in one checked-in file.
 */

/** A leadership key: at most one process leads it at any time. */
export interface LeaderKey {
  readonly name: string;
  readonly id: number;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Ids live in the int4 objid of the advisory lock. */
const MAX_ID = 2_147_483_647;
/** The first id an application may use. */
export const FIRST_APPLICATION_KEY_ID = 100;

/** Thrown at startup when two keys share a name or an id. */
export class LeaderKeyConflictError extends Error {
  readonly code = 'LEADER_KEY_CONFLICT';
  override readonly name = 'LeaderKeyConflictError';
}

export function isLeaderKeyConflictError(err: unknown): err is LeaderKeyConflictError {
  return (
    typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'LEADER_KEY_CONFLICT'
  );
}

/** A set of leadership keys with unique names and unique ids. */
export class LeaderKeyRegistry {
  readonly #byName = new Map<string, LeaderKey>();
  readonly #byId = new Map<number, LeaderKey>();

  /**
   * Registers a key. Registering the same name with the same id again returns the same key
   * (modules may be loaded twice); any other clash throws `LeaderKeyConflictError`.
   */
  register(name: string, id: number): LeaderKey {
    if (!NAME.test(name)) throw new RangeError(`invalid leadership key name ${JSON.stringify(name)}`);
    if (!Number.isInteger(id) || id < 1 || id > MAX_ID) {
      throw new RangeError(`leadership key id must be an integer in 1..${MAX_ID}, got ${id}`);
    }
    const sameName = this.#byName.get(name);
    if (sameName && sameName.id === id) return sameName;
    if (sameName) throw new LeaderKeyConflictError(`leadership key ${name} already has id ${sameName.id}`);
    const sameId = this.#byId.get(id);
    if (sameId) throw new LeaderKeyConflictError(`leadership key id ${id} already belongs to ${sameId.name}`);
    const key = Object.freeze({ name, id });
    this.#byName.set(name, key);
    this.#byId.set(id, key);
    return key;
  }

  /** Registers several keys at once: `{ reconcile: 100, heal: 101 }`. */
  registerAll<N extends string>(ids: Record<N, number>): Record<N, LeaderKey> {
    const out = {} as Record<N, LeaderKey>;
    for (const name of Object.keys(ids) as N[]) out[name] = this.register(name, ids[name]);
    return out;
  }

  /** The key of that name; throws when it was never registered. */
  get(name: string): LeaderKey {
    const key = this.#byName.get(name);
    if (!key) throw new RangeError(`unknown leadership key ${name}`);
    return key;
  }

  /** The key with that id, if registered. */
  byId(id: number): LeaderKey | undefined {
    return this.#byId.get(id);
  }

  /** Every key, by id. */
  all(): LeaderKey[] {
    return [...this.#byId.values()].sort((a, b) => a.id - b.id);
  }
}

/** The process-wide registry the application registers its keys in. */
export const leaderKeys = new LeaderKeyRegistry();
