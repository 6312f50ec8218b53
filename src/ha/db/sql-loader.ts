import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/**
 * Reads a `.sql` (or `.lua`) file that lives next to the calling module, once.
 * Usage: `const sql = loadText(new URL('./statements/acquire.sql', import.meta.url))`.
 */
export function loadText(url: URL): string {
  const key = url.href;
  let text = cache.get(key);
  if (text === undefined) {
    text = readFileSync(url, 'utf8');
    cache.set(key, text);
  }
  return text;
}
