import { StaleEpochError } from './errors.js';

/**
 * The fence of a backend that is not the database (an in-memory simulator, a remote API
 * that accepts a token): remembers the highest epoch seen per leadership key and refuses
 * any call carrying an older one. A deposed leader that wakes up after its successor has
 * made a call is refused; calls of equal or newer epochs pass.
 */
export class EpochGate {
  readonly #highest = new Map<string, number>();

  /**
   * Admits a call made for `key` under `epoch`, raising the key's high-water mark; throws
   * `StaleEpochError` when a newer epoch has already been admitted for that key.
   */
  admit(key: string, epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError(`invalid epoch ${epoch}`);
    const highest = this.#highest.get(key);
    if (highest !== undefined && epoch < highest) throw new StaleEpochError(key, epoch, highest);
    if (highest === undefined || epoch > highest) this.#highest.set(key, epoch);
  }

  /** The highest epoch admitted for `key`, if any. */
  highest(key: string): number | undefined {
    return this.#highest.get(key);
  }
}
