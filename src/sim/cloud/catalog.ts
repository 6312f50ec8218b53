// The objects of one simulated resource type, indexed so that a call costs the same with
// ten objects or a hundred thousand: by id in a map, by label in posting sets, and in
// creation order in an array a keyset cursor finds its place in by binary search. A
// listing used to filter every object and skip `cursor` of them on every call, so a run
// that created n instances and listed by label once per instance did O(n²) work.

import type { ListOptions, Page } from '../../core/ports/common.js';

/** Most items a page holds, whatever the caller asks. */
export const MAX_PAGE = 1_000;

type Labels = Readonly<Record<string, string>>;

/** One object and its place in creation order. */
interface Entry<T> {
  readonly id: string;
  /** Creation order, from 1; the keyset cursor. */
  readonly seq: number;
  item: T;
  /** Label keys it is indexed under. */
  keys: readonly string[];
  live: boolean;
}

/** A label as one index key; the length prefix keeps `a=b` + `c` apart from `a` + `b=c`. */
const labelKey = (name: string, value: string): string => `${name.length}:${name}=${value}`;

/** The labels of an object that carries them itself. */
const ownLabels = (item: object): Labels | undefined => (item as { labels?: Labels }).labels;

/**
 * Objects by id, in creation order, with a label index. A cursor is the creation number of
 * the last item of the page before, so a page costs O(log n + limit) unfiltered and the
 * size of the smallest matching label set filtered, and an object removed between two
 * pages moves no other one (an offset cursor skipped one).
 */
export class Catalog<T extends object> implements Iterable<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Every entry by `seq`; removed ones stay (not live) until compacted. */
  private order: Entry<T>[] = [];
  private removed = 0;
  private readonly byLabel = new Map<string, Set<Entry<T>>>();
  private seq = 0;

  /**
   * @param items initial objects with their ids, in creation order
   * @param labelsOf the labels of an object (default its own `labels`)
   */
  constructor(
    items: Iterable<readonly [string, T]> = [],
    private readonly labelsOf: (item: T) => Labels | undefined = ownLabels,
  ) {
    for (const [id, item] of items) this.set(id, item);
  }

  /** How many objects there are. */
  get size(): number {
    return this.entries.size;
  }

  /** The object with `id`. */
  get(id: string): T | undefined {
    return this.entries.get(id)?.item;
  }

  /** Whether an object has `id`. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Adds an object, or replaces one keeping its place in creation order. */
  set(id: string, item: T): this {
    const known = this.entries.get(id);
    if (known !== undefined) {
      known.item = item;
      this.reindex(known, this.keysOf(item));
      return this;
    }
    const entry: Entry<T> = { id, seq: ++this.seq, item, keys: this.keysOf(item), live: true };
    this.entries.set(id, entry);
    this.order.push(entry);
    for (const key of entry.keys) this.postings(key).add(entry);
    // Compacted only when an object is added, never while a listing may be walking `order`.
    if (this.removed > 64 && this.removed * 2 > this.order.length) this.compact();
    return this;
  }

  /** Removes an object; false when there was none. */
  delete(id: string): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.entries.delete(id);
    entry.live = false;
    this.removed++;
    for (const key of entry.keys) this.unpost(key, entry);
    return true;
  }

  /** Every object, in creation order. */
  *[Symbol.iterator](): Iterator<T> {
    for (const entry of this.entries.values()) yield entry.item;
  }

  /** Every object, in creation order. */
  values(): IterableIterator<T> {
    return this[Symbol.iterator]() as IterableIterator<T>;
  }

  /** Every (id, object), in creation order. */
  *pairs(): Generator<[string, T]> {
    for (const entry of this.entries.values()) yield [entry.id, entry.item];
  }

  /**
   * One page: the objects whose labels include `options.labels`, after `options.cursor`.
   * `view` gives an object as it is now, or undefined when it is gone (an instance whose
   * stages ended in terminated): such an object is left out and does not fill the page.
   * Only the objects of the page and one after it are viewed.
   */
  page(options: ListOptions | undefined): Page<T>;
  page<V>(options: ListOptions | undefined, view: (id: string, item: T) => V | undefined): Page<V>;
  page<V>(
    options: ListOptions | undefined,
    view: (id: string, item: T) => V | undefined = (_, item) => item as unknown as V,
  ): Page<V> {
    const wanted = Object.entries(options?.labels ?? {});
    const after = options?.cursor === undefined ? 0 : Number(options.cursor) || 0;
    const limit = Math.min(MAX_PAGE, Math.max(1, options?.limit ?? 100));
    const out: V[] = [];
    let last = 0;
    for (const entry of this.candidates(wanted, after)) {
      if (!entry.live) continue;
      const item = view(entry.id, entry.item);
      if (item === undefined) continue;
      // One item past the page tells whether there is a next one without counting them all.
      if (out.length === limit) return { items: out, nextCursor: String(last) };
      out.push(item);
      last = entry.seq;
    }
    return { items: out };
  }

  /** Entries after `after` holding every wanted label, in creation order. */
  private *candidates(wanted: readonly [string, string][], after: number): Generator<Entry<T>> {
    if (wanted.length === 0) {
      for (let i = this.firstAfter(after); i < this.order.length; i++) yield this.order[i]!;
      return;
    }
    // The smallest posting set of the wanted labels, checked against the others.
    let smallest: Set<Entry<T>> | undefined;
    const keys = wanted.map(([k, v]) => labelKey(k, v));
    for (const key of keys) {
      const set = this.byLabel.get(key);
      if (set === undefined) return;
      if (smallest === undefined || set.size < smallest.size) smallest = set;
    }
    for (const entry of smallest!) {
      if (entry.seq <= after) continue;
      if (keys.every((key) => entry.keys.includes(key))) yield entry;
    }
  }

  /** Index in `order` of the first entry with a `seq` greater than `after`. */
  private firstAfter(after: number): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.order[mid]!.seq <= after) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private keysOf(item: T): string[] {
    const labels = this.labelsOf(item);
    return labels === undefined ? [] : Object.entries(labels).map(([k, v]) => labelKey(k, v));
  }

  private postings(key: string): Set<Entry<T>> {
    let set = this.byLabel.get(key);
    if (set === undefined) {
      set = new Set();
      this.byLabel.set(key, set);
    }
    return set;
  }

  private unpost(key: string, entry: Entry<T>): void {
    const set = this.byLabel.get(key);
    set?.delete(entry);
    if (set?.size === 0) this.byLabel.delete(key);
  }

  /** Labels of a replaced object changed: its posting sets, kept in creation order. */
  private reindex(entry: Entry<T>, keys: readonly string[]): void {
    if (keys.length === entry.keys.length && keys.every((k) => entry.keys.includes(k))) return;
    for (const key of entry.keys) if (!keys.includes(key)) this.unpost(key, entry);
    for (const key of keys) {
      if (entry.keys.includes(key)) continue;
      const set = this.postings(key);
      set.add(entry);
      // A set iterates in insertion order: re-sort the rare one an old entry joined late.
      const sorted = [...set].sort((a, b) => a.seq - b.seq);
      set.clear();
      for (const e of sorted) set.add(e);
    }
    entry.keys = keys;
  }

  private compact(): void {
    this.order = this.order.filter((entry) => entry.live);
    this.removed = 0;
  }
}
