import { describe, expect, it } from 'vitest';
import { Catalog, MAX_PAGE } from './catalog.js';

interface Item {
  readonly id: string;
  readonly labels?: Readonly<Record<string, string>>;
}

function catalogOf(n: number, labelsOf: (i: number) => Record<string, string> = () => ({})) {
  const catalog = new Catalog<Item>();
  for (let i = 0; i < n; i++) catalog.set(`x${i}`, { id: `x${i}`, labels: labelsOf(i) });
  return catalog;
}

/** Every id of every page, following the cursors. */
function walk(catalog: Catalog<Item>, options: { labels?: Record<string, string>; limit?: number }) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = catalog.page({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

describe('catalogue', () => {
  it('pages in creation order, by label, with a cursor only when more follow', () => {
    const catalog = catalogOf(7, (i) => ({ parity: String(i % 2), all: 'yes' }));
    expect(walk(catalog, { limit: 3 })).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6']);
    expect(walk(catalog, { labels: { parity: '0', all: 'yes' }, limit: 2 })).toEqual([
      'x0',
      'x2',
      'x4',
      'x6',
    ]);
    expect(catalog.page({ labels: { parity: '1' }, limit: 3 })).toEqual({
      items: [{ id: 'x1', labels: { parity: '1', all: 'yes' } }, expect.anything(), expect.anything()],
    });
    expect(catalog.page({ labels: { parity: '2' } })).toEqual({ items: [] });
    expect(catalog.page({ labels: { parity: '0', all: 'no' } })).toEqual({ items: [] });
    expect(catalog.page({ limit: 5_000 }).items).toHaveLength(7);
    expect(catalogOf(MAX_PAGE + 1).page({ limit: 5_000 }).items).toHaveLength(MAX_PAGE);
  });

  it('keeps a label and its value apart: a=b, c is not a, b=c', () => {
    const catalog = new Catalog<Item>();
    catalog.set('one', { id: 'one', labels: { 'a=b': 'c' } });
    expect(catalog.page({ labels: { a: 'b=c' } }).items).toEqual([]);
    expect(catalog.page({ labels: { 'a=b': 'c' } }).items).toHaveLength(1);
  });

  it('moves no other object when one is removed between two pages (an offset cursor skipped one)', () => {
    const catalog = catalogOf(6);
    const first = catalog.page({ limit: 3 });
    expect(first.items.map((i) => i.id)).toEqual(['x0', 'x1', 'x2']);
    catalog.delete('x1');
    const second = catalog.page({ limit: 3, cursor: first.nextCursor! });
    expect(second.items.map((i) => i.id)).toEqual(['x3', 'x4', 'x5']);
  });

  it('keeps creation order through removals, compactions and a replacement', () => {
    const catalog = catalogOf(300, () => ({ k: 'v' }));
    for (let i = 0; i < 300; i += 3) catalog.delete(`x${i}`);
    for (let i = 1; i < 300; i += 3) catalog.delete(`x${i}`);
    catalog.set('late', { id: 'late', labels: { k: 'v' } });
    catalog.set('x2', { id: 'x2', labels: { k: 'v', extra: '1' } });
    const expected = [...Array.from({ length: 100 }, (_, i) => `x${3 * i + 2}`), 'late'];
    expect(walk(catalog, { limit: 7 })).toEqual(expected);
    expect(walk(catalog, { labels: { k: 'v' }, limit: 7 })).toEqual(expected);
    expect(catalog.page({ labels: { extra: '1' } }).items).toEqual([
      { id: 'x2', labels: { k: 'v', extra: '1' } },
    ]);
    // A label an old object gains late still lists it in creation order.
    catalog.set('x5', { id: 'x5', labels: { extra: '1' } });
    expect(walk(catalog, { labels: { extra: '1' } })).toEqual(['x2', 'x5']);
    expect(walk(catalog, { labels: { k: 'v' } })).not.toContain('x5');
    expect(catalog.size).toBe(101);
  });

  it('looks at only the objects of the page and one after it, however many exist', () => {
    const catalog = catalogOf(20_000, (i) => ({ owner: `r${i}`, shard: String(i % 4) }));
    let viewed = 0;
    const view = (_id: string, item: Item) => {
      viewed++;
      return item;
    };
    expect(catalog.page({ labels: { owner: 'r19999' }, limit: 1 }, view).items).toHaveLength(1);
    expect(viewed).toBe(1);
    viewed = 0;
    const page = catalog.page({ limit: 10, cursor: '15000' }, view);
    expect(page.items[0]!.id).toBe('x15000');
    expect(viewed).toBe(11);
  });

  it('leaves out what the view says is gone, without filling the page short', () => {
    const catalog = catalogOf(5);
    const page = catalog.page({ limit: 2 }, (id, item) => (id === 'x0' || id === 'x2' ? undefined : item));
    expect(page.items.map((i) => i.id)).toEqual(['x1', 'x3']);
    expect(catalog.page({ limit: 2, cursor: page.nextCursor! }).items.map((i) => i.id)).toEqual(['x4']);
  });
});
