// The simulator's page names files and folders of the code: each must exist, so a move or
// a deletion that leaves the page behind fails here rather than misleading a reader.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const page = readFileSync(join(root, 'docs', 'simulator.md'), 'utf8');

describe('docs/simulator.md', () => {
  it('names only paths of the code that exist', () => {
    const named = [...page.matchAll(/\b((?:src|test|bench|scripts)\/[\w./-]*\w)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(5);
    const exists = (path: string) =>
      existsSync(join(root, path)) || existsSync(join(root, path.replace(/\.js$/, '.ts')));
    expect(named.filter((path) => !exists(path))).toEqual([]);
  });
});
