/** A seeded pseudo-random source (mulberry32): the same seed gives the same drill. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One element of `items`, drawn from `random`. */
export function pick<T>(items: readonly T[], random: () => number): T {
  if (items.length === 0) throw new RangeError('nothing to pick from');
  return items[Math.floor(random() * items.length)]!;
}
