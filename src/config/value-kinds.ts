/**
 * The types a setting can have. One kind parses the text of a flag or an environment variable
 * and the JSON value of the config file alike, so that the three sources are validated by one
 * rule and report the same `expected` text.
 */
export interface ValueKind<T> {
  /** What the value must be, as said to the user (`--help`, errors, the docs table). */
  readonly expected: string;
  /** The value, or undefined when `raw` is not one. */
  parse(raw: unknown): T | undefined;
}

const text = (raw: unknown): string | undefined =>
  typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined;

/** A whole number within [min, max]; `unit` names what it counts (help text only). */
export function integer(min: number, max: number, unit = ''): ValueKind<number> {
  const what = unit === '' ? 'an integer' : `an integer number of ${unit}`;
  return {
    expected: `${what} from ${min} to ${max}`,
    parse(raw) {
      const s = text(raw);
      if (s === undefined || !/^\d+$/.test(s)) return undefined;
      const n = Number(s);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

/** Milliseconds within [min, max]. */
export const millis = (min: number, max: number): ValueKind<number> => integer(min, max, 'milliseconds');

/** One of a fixed list of words. */
export function oneOf<T extends string>(values: readonly T[]): ValueKind<T> {
  return {
    expected: `one of ${values.join(', ')}`,
    parse: (raw) => ((values as readonly unknown[]).includes(raw) ? (raw as T) : undefined),
  };
}

/** A URL with one of `protocols` (each with its colon, e.g. `redis:`). */
export function urlWith(protocols: readonly string[], expected: string): ValueKind<string> {
  return {
    expected,
    parse(raw) {
      if (typeof raw !== 'string') return undefined;
      try {
        return protocols.includes(new URL(raw).protocol) ? raw : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** A string matching `pattern`. */
export function matching(pattern: RegExp, expected: string): ValueKind<string> {
  return {
    expected,
    parse: (raw) => (typeof raw === 'string' && pattern.test(raw) ? raw : undefined),
  };
}
