// Delay distributions, as data: how long a lifecycle stage or an injected latency lasts.

/** A delay distribution, in milliseconds. */
export type Delay =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** Normal around `meanMs` with standard deviation `jitterMs`, never below zero. */
  | { readonly kind: 'normal'; readonly meanMs: number; readonly jitterMs: number };

/** Draws one delay from `delay` with `random` (uniform in [0, 1)). */
export function sampleDelay(delay: Delay, random: () => number): number {
  switch (delay.kind) {
    case 'fixed':
      return delay.ms;
    case 'uniform':
      return delay.minMs + (delay.maxMs - delay.minMs) * random();
    case 'normal': {
      // Box–Muller; 1 - random() keeps the logarithm's argument in (0, 1].
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.max(0, delay.meanMs + delay.jitterMs * z);
    }
  }
}

/** The problem with `value` as a delay (naming the field under `path`), or undefined. */
export function delayProblem(value: unknown, path: string): string | undefined {
  const d = value as Record<string, unknown> | null;
  const ms = (key: string) => typeof d?.[key] === 'number' && (d[key] as number) >= 0;
  if (typeof d !== 'object' || d === null) return `${path} must be an object`;
  switch (d.kind) {
    case 'fixed':
      return ms('ms') ? undefined : `${path}.ms must be a number >= 0`;
    case 'uniform':
      if (!ms('minMs')) return `${path}.minMs must be a number >= 0`;
      return ms('maxMs') && (d.maxMs as number) >= (d.minMs as number)
        ? undefined
        : `${path}.maxMs must be a number >= minMs`;
    case 'normal':
      if (!ms('meanMs')) return `${path}.meanMs must be a number >= 0`;
      return ms('jitterMs') ? undefined : `${path}.jitterMs must be a number >= 0`;
    default:
      return `${path}.kind must be one of fixed, uniform, normal`;
  }
}
