import { INSTANCE_TYPES } from '../../core/catalogue/instance-types.js';

/** One line of the price list: what one minute of a resource of this kind and size costs. */
export interface MinutePrice {
  readonly kind: string;
  /** NULL-like: undefined matches resources without a size. */
  readonly size: string | undefined;
  /** US dollars per minute. */
  readonly price: number;
}

/**
 * The price list the accounting pass records with every minute: instances by size, at the
 * catalogue's hourly list price / 60. Other kinds cost nothing (a minute without a line is
 * recorded at 0): networks, volumes, DNS and load balancers are accounted, not yet priced.
 */
export function minutePrices(): MinutePrice[] {
  return INSTANCE_TYPES.map((t) => ({ kind: 'instances', size: t.name, price: t.pricePerHour / 60 }));
}
