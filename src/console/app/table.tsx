// The one table every list page uses: a page is column config over it (a header, and how a row
// shows in that column), never a table of its own.

import type { ComponentChildren } from 'preact';

/** One column: its header and its cell. */
export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => ComponentChildren;
}

/** Props of {@link Table}. */
export interface TableProps<T> {
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[] | undefined;
  readonly rowKey: (row: T) => string;
  /** Shown when there are no rows. */
  readonly empty?: string;
  readonly label: string;
}

export function Table<T>({ columns, rows, rowKey, empty, label }: TableProps<T>) {
  if (rows === undefined) return <p class="muted">loading…</p>;
  if (rows.length === 0) return <p class="muted">{empty ?? 'nothing here'}</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.header}>{c.header}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} data-key={rowKey(row)}>
            {columns.map((c) => (
              <td key={c.header}>{c.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A field's value as text: dates shortened, nulls as a dash, objects as compact JSON. */
export function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value))
    return value.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A phase or state as a coloured badge (the class names the value). */
export function Badge({ value }: { value: string | null | undefined }) {
  const v = value ?? 'unknown';
  return <span class={`badge badge-${v.toLowerCase()}`}>{v}</span>;
}

/** A problem from the API, with its field errors. */
export function Problem({
  error,
}: {
  error: { message: string; errors?: readonly { path: string; message: string }[] } | undefined;
}) {
  if (!error) return null;
  return (
    <div class="problem" role="alert">
      {error.message}
      {error.errors && error.errors.length > 0 && (
        <ul>
          {error.errors.map((e) => (
            <li key={e.path}>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
