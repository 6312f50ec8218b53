// A NUL character is valid JSON (`"\u0000"`) and valid in a query (`%00`), and every schema
// passes it, yet no name, address or token of a real cloud holds one and it truncates
// what C libraries, logs and terminals show. It is refused anywhere in a request, keys
// included, with the path of the value that holds it.

/** The dotted path (`body.spec.name`, `body.targets.0.address`) of the first NUL, or undefined. */
export function nulPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\u0000')) return path;
    const found = nulPath(inner, `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
