// The four output formats. A table is always columns (never JSON in disguise); json and yaml
// are the API's objects as they are; name is one `kind/name` per line, for scripts.

import { usageError } from './errors.js';

export const FORMATS = ['table', 'json', 'yaml', 'name'] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(value: string | undefined): Format {
  const format = value ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format))
    throw usageError(`--output: "${format}" is not one of ${FORMATS.join(', ')}`);
  return format as Format;
}

/** A column: its header and how a row shows it. */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => unknown;
}

/** A cell as text: empty values are `-`, objects compact JSON, long text cut at 60 characters. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const line = text.replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** Rows under upper-case headers, columns padded to their widest cell, two spaces apart. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

/** How long ago `iso` was, as kubectl shows ages: 45s, 12m, 3h, 5d. */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The value as JSON or YAML text. */
export async function serialise(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(value, { lineWidth: 0 });
}

/**
 * Writes `value` in `format`: json and yaml print it whole, table the rows under the columns,
 * name one `names(row)` per line.
 */
export async function print<T>(
  out: NodeJS.WritableStream,
  format: Format,
  value: unknown,
  rows: readonly T[],
  columns: readonly Column<T>[],
  name: (row: T) => string,
): Promise<void> {
  if (format === 'json' || format === 'yaml') out.write(await serialise(value, format));
  else if (format === 'name') out.write(rows.map((r) => `${name(r)}\n`).join(''));
  else out.write(table(rows, columns));
}
