// What the client reads of a kind's JSON Schemas (the TypeBox objects of the registry): the
// table's spec columns and the type a `--set key=value` value is parsed as.

import { usageError } from './errors.js';

/** The part of a JSON Schema the client looks at. */
export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly const?: unknown;
  readonly maxLength?: number;
}

const typesOf = (node: SchemaNode): string[] => {
  if (node.anyOf) return node.anyOf.flatMap(typesOf);
  if (node.const !== undefined) return [typeof node.const];
  return node.type === undefined ? [] : typeof node.type === 'string' ? [node.type] : [...node.type];
};

/** Whether a value of this schema fits a table cell: a short string, a number, a boolean. */
function isShortScalar(node: SchemaNode): boolean {
  const types = typesOf(node);
  return (
    types.length > 0 &&
    types.every((t) => ['string', 'number', 'integer', 'boolean'].includes(t)) &&
    (node.maxLength === undefined || node.maxLength <= 256)
  );
}

/** The table's spec columns: the first `max` top-level fields that fit a cell, in schema order. */
export function specColumns(spec: SchemaNode, max = 4): string[] {
  return Object.entries(spec.properties ?? {})
    .filter(([, node]) => isShortScalar(node))
    .slice(0, max)
    .map(([name]) => name);
}

/** The schema at a dotted path (`healthCheck.intervalSeconds`, `targets.0.port`), if known. */
function schemaAt(root: SchemaNode, segments: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const s of segments) {
    if (node === undefined) return undefined;
    if (node.properties) node = node.properties[s];
    else if (node.items && /^\d+$/.test(s)) node = node.items;
    else return undefined;
  }
  return node;
}

/**
 * A `--set` value as its field's type says: numbers and booleans parsed, strings kept as
 * written (so `--set image=007` stays a string), objects and arrays as JSON. A field the schema
 * does not know is parsed as JSON when it is JSON, else kept as a string: the server's answer
 * then names the field.
 */
function parseValue(raw: string, node: SchemaNode | undefined, flag: string): unknown {
  const types = node ? typesOf(node) : [];
  if (types.length > 0 && types.every((t) => t === 'string')) return raw;
  if (types.includes('integer') || types.includes('number')) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw usageError(`${flag}: "${raw}" is not a number`);
    return n;
  }
  if (types.includes('boolean')) {
    if (raw !== 'true' && raw !== 'false') throw usageError(`${flag}: "${raw}" is not true or false`);
    return raw === 'true';
  }
  try {
    return JSON.parse(raw);
  } catch {
    if (types.includes('object') || types.includes('array'))
      throw usageError(`${flag}: "${raw}" is not JSON (the field takes an ${types.join(' or ')})`);
    return raw;
  }
}

/** Applies `key=value` pairs (dotted keys for nested fields) to `target`, typed by `schema`. */
export function applySets(
  target: Record<string, unknown>,
  sets: readonly string[],
  schema: SchemaNode,
  flag = '--set',
): Record<string, unknown> {
  for (const pair of sets) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`${flag} "${pair}": expected key=value`);
    const segments = pair.slice(0, eq).split('.');
    if (segments.some((s) => s === '')) throw usageError(`${flag} "${pair}": empty key segment`);
    const value = parseValue(pair.slice(eq + 1), schemaAt(schema, segments), `${flag} ${pair.slice(0, eq)}`);
    let node: Record<string, unknown> = target;
    for (const [i, s] of segments.entries()) {
      if (i === segments.length - 1) node[s] = value;
      else {
        const next = node[s];
        if (typeof next !== 'object' || next === null) node[s] = /^\d+$/.test(segments[i + 1]!) ? [] : {};
        node = node[s] as Record<string, unknown>;
      }
    }
  }
  return target;
}

/** `key=value` label pairs as an object. */
export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--label "${pair}": expected key=value`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
