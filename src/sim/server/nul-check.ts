// A NUL character is valid JSON (`"\u0000"`) and valid in a query (`%00`), and every schema
// passes it, yet no name, address or token of a real cloud holds one and it truncates
// what C libraries, logs and terminals show. It is refused anywhere in a request, keys
// included, with the path of the value that holds it.

/** The dotted path (`body.spec.name`, `body.targets.0.address`) of the first NUL, or undefined. */
export function nulPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  // for…in over own keys, not Object.entries: no array of pairs per object of every body.
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (key.includes('\u0000')) return path;
    const inner = record[key];
    // The path of a value is built only when it holds a NUL or is a container.
    if (typeof inner === 'string') {
      if (inner.includes('\u0000')) return `${path}.${key}`;
      continue;
    }
    if (typeof inner !== 'object' || inner === null) continue;
    const found = nulPath(inner, `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
