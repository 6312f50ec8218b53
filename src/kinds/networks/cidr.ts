import type { FieldError } from '../../core/resources/field-error.js';

/** An IPv4 CIDR such as `10.0.0.0/16`. */
export const CIDR_PATTERN = '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$';

/** Prefix lengths a network may have: /16 (65,536 addresses) to /28 (16). */
export const MIN_PREFIX = 16;
export const MAX_PREFIX = 28;

/** What the schema's pattern cannot say: octets in range, prefix in range, no host bits set. */
export function checkCidr(cidr: string, path: string): FieldError[] {
  const [address, prefixText] = cidr.split('/');
  const octets = address!.split('.').map(Number);
  const prefix = Number(prefixText);
  if (octets.some((o) => o > 255)) return [{ path, message: `${cidr} has an octet above 255` }];
  if (prefix < MIN_PREFIX || prefix > MAX_PREFIX)
    return [{ path, message: `prefix length must be between /${MIN_PREFIX} and /${MAX_PREFIX}` }];
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  if (value % hostBits !== 0)
    return [{ path, message: `${cidr} has host bits set (the network address is required)` }];
  return [];
}

/** A valid CIDR as its first address and size. */
export interface Range {
  readonly base: number;
  readonly size: number;
}

/** The range of a CIDR that {@link checkCidr} accepted. */
export function rangeOf(cidr: string): Range {
  const [address, prefixText] = cidr.split('/');
  const base = address!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return { base, size: 2 ** (32 - Number(prefixText)) };
}

/** True when the two ranges share an address. */
export function overlaps(a: Range, b: Range): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** True when `inner` lies wholly inside `outer`. */
export function contains(outer: Range, inner: Range): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

/** The first of `others` whose CIDR (at `spec.cidr`) overlaps `cidr`. */
export function firstOverlap<T extends { spec: Record<string, unknown> }>(
  cidr: string,
  others: readonly T[],
): T | undefined {
  const range = rangeOf(cidr);
  return others.find((o) => typeof o.spec.cidr === 'string' && overlaps(range, rangeOf(o.spec.cidr)));
}
