// IPv4 ranges: parsing a CIDR and naming the usable host addresses of it.

import { InvalidInputError } from '../../core/errors/backend-errors.js';

/** A parsed IPv4 range. */
export interface Cidr {
  /** First address, as a 32-bit number. */
  readonly base: number;
  /** Number of addresses in the range. */
  readonly size: number;
}

/** Parses `a.b.c.d/n` (n from 16 to 29: a real cloud's subnet sizes); InvalidInput otherwise. */
export function parseCidr(cidr: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const bits = Number(m?.[5]);
  if (m === null || octets.some((o) => o > 255) || bits < 16 || bits > 29) {
    throw new InvalidInputError(`cidr ${cidr} is not an IPv4 range a.b.c.d/n with n from 16 to 29`);
  }
  const size = 2 ** (32 - bits);
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  return { base: address - (address % size), size };
}

/**
 * The `index`-th usable host address of the range: the network address, the gateway
 * (first host) and the broadcast address are reserved, as in most clouds.
 */
export function hostAddress(range: Cidr, index: number): string | undefined {
  const offset = index + 2;
  if (offset >= range.size - 1) return undefined;
  const n = range.base + offset;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** Usable host addresses of the range. */
export function hostCount(range: Cidr): number {
  return range.size - 3;
}

/** True when `inner` lies wholly inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

/** True when the two ranges share an address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}
