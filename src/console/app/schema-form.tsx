// The create form of a kind, and the body form of an action that takes one, drawn from their
// JSON Schemas: a select for a choice of
// constants (or for a field that names "one of your <kind>", filled with those resources), a
// number box for integers, a checkbox for booleans, a text box for strings, and a JSON box for
// arrays and objects. The API validates (the schemas' patterns are not HTML patterns: the
// browser's `v`-flag regular expressions reject some of them); its field errors (`/spec/cidr`)
// are shown next to the field they name.

import { useEffect, useState } from 'preact/hooks';
import { api, type FieldError, type Resource } from './api.js';
import type { ActionInfo, JsonSchema, KindInfo } from './kinds.js';

/** The constants a schema chooses from, if it is a choice. */
function choices(schema: JsonSchema): string[] | undefined {
  if (schema.enum) return schema.enum.map(String);
  if (schema.anyOf?.every((s) => s.const !== undefined)) return schema.anyOf.map((s) => String(s.const));
  return undefined;
}

/** The kind a field refers to, from its description ("id of one of your networks"). */
function referredKind(schema: JsonSchema, kinds: readonly KindInfo[]): string | undefined {
  const m = /one of your ([a-z][a-z -]*[a-z])/i.exec(schema.description ?? '');
  const said = m?.[1]?.toLowerCase().replaceAll(' ', '-');
  return kinds.find((k) => k.name === said)?.name;
}

interface FieldProps {
  readonly path: string;
  readonly name: string;
  readonly schema: JsonSchema;
  readonly required: boolean;
  readonly kinds: readonly KindInfo[];
  readonly errors: readonly FieldError[];
}

function RefSelect({ kind, id, required }: { kind: string; id: string; required: boolean }) {
  const [items, setItems] = useState<Resource[]>([]);
  useEffect(() => {
    api<{ items: Resource[] }>(`/v1/${kind}?limit=100`).then(
      (page) => setItems(page.items),
      () => setItems([]),
    );
  }, [kind]);
  return (
    <select id={id} name={id} required={required}>
      {!required && <option value="">—</option>}
      {items.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name} ({r.id})
        </option>
      ))}
    </select>
  );
}

function Field({ path, name, schema, required, kinds, errors }: FieldProps) {
  const id = path;
  const mine = errors.filter((e) => e.path === path || e.path.startsWith(`${path}/`));
  const options = choices(schema);
  const refers = schema.type === 'string' ? referredKind(schema, kinds) : undefined;
  let input: preact.JSX.Element;
  if (refers) input = <RefSelect kind={refers} id={id} required={required} />;
  else if (options)
    input = (
      <select id={id} name={id} required={required}>
        {!required && <option value="">—</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  else if (schema.type === 'boolean') input = <input id={id} name={id} type="checkbox" />;
  else if (schema.type === 'integer' || schema.type === 'number')
    input = (
      <input
        id={id}
        name={id}
        type="number"
        required={required}
        {...(schema.minimum === undefined ? {} : { min: schema.minimum })}
        {...(schema.maximum === undefined ? {} : { max: schema.maximum })}
        step={schema.type === 'integer' ? 1 : 'any'}
      />
    );
  else if (schema.type === 'string')
    input = (
      <input
        id={id}
        name={id}
        type="text"
        required={required}
        {...(schema.maxLength ? { maxLength: schema.maxLength } : {})}
      />
    );
  else
    input = (
      <textarea
        id={id}
        name={id}
        rows={3}
        placeholder={schema.type === 'array' ? '[ … ] (JSON)' : '{ … } (JSON)'}
      />
    );
  return (
    <div class={`field${mine.length ? ' invalid' : ''}`}>
      <label for={id}>
        {name}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      {input}
      {schema.description && <small class="muted">{schema.description}</small>}
      {mine.map((e) => (
        <small key={e.path} class="error">
          {e.message}
        </small>
      ))}
    </div>
  );
}

/** Reads one field of the form back as the JSON value its schema wants; undefined: left empty. */
function fieldValue(form: HTMLFormElement, path: string, schema: JsonSchema): unknown {
  const el = form.elements.namedItem(path) as
    | HTMLInputElement
    | HTMLSelectElement
    | HTMLTextAreaElement
    | null;
  if (!el) return undefined;
  if (el instanceof HTMLInputElement && el.type === 'checkbox') return el.checked ? true : undefined;
  const text = el.value.trim();
  if (text === '') return undefined;
  if (schema.type === 'integer' || schema.type === 'number') return Number(text);
  if (schema.type === 'array' || schema.type === 'object' || (!schema.type && !choices(schema))) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text; // the API names the field and what it expected
    }
  }
  return text;
}

/** `labels` typed as `key=value, key=value`. */
function labelsOf(text: string): Record<string, string> | undefined {
  const pairs = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => p.split('=').map((s) => s.trim()) as [string, string?]);
  return pairs.length ? Object.fromEntries(pairs.map(([k, v]) => [k, v ?? ''])) : undefined;
}

/** Props of {@link CreateForm}. */
export interface CreateFormProps {
  readonly kind: KindInfo;
  readonly kinds: readonly KindInfo[];
  readonly errors: readonly FieldError[];
  readonly busy: boolean;
  readonly onSubmit: (body: Record<string, unknown>) => void;
}

export function CreateForm({ kind, kinds, errors, busy, onSubmit }: CreateFormProps) {
  const spec = kind.create.properties?.spec ?? {};
  const specRequired = new Set(spec.required ?? []);
  const nameSchema = kind.create.properties?.name ?? { type: 'string' };
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const specValue: Record<string, unknown> = {};
    for (const [field, schema] of Object.entries(spec.properties ?? {})) {
      const v = fieldValue(form, `/spec/${field}`, schema);
      if (v !== undefined) specValue[field] = v;
    }
    const labels = labelsOf((form.elements.namedItem('/labels') as HTMLInputElement | null)?.value ?? '');
    onSubmit({
      name: fieldValue(form, '/name', nameSchema),
      ...(labels ? { labels } : {}),
      spec: specValue,
    });
  };
  return (
    <form class="create" aria-label={`create ${kind.name}`} onSubmit={submit}>
      <Field path="/name" name="name" schema={nameSchema} required kinds={kinds} errors={errors} />
      <div class={`field${errors.some((e) => e.path.startsWith('/labels')) ? ' invalid' : ''}`}>
        <label for="/labels">labels</label>
        <input id="/labels" name="/labels" type="text" placeholder="team=web, tier=front" />
      </div>
      {Object.entries(spec.properties ?? {}).map(([field, schema]) => (
        <Field
          key={field}
          path={`/spec/${field}`}
          name={field}
          schema={schema}
          required={specRequired.has(field)}
          kinds={kinds}
          errors={errors}
        />
      ))}
      <button type="submit" disabled={busy}>
        Create
      </button>
    </form>
  );
}

/** Props of {@link ActionForm}. */
export interface ActionFormProps {
  readonly kind: KindInfo;
  readonly action: ActionInfo & { readonly body: JsonSchema };
  readonly kinds: readonly KindInfo[];
  readonly errors: readonly FieldError[];
  readonly busy: boolean;
  readonly onSubmit: (body: Record<string, unknown>) => void;
  readonly onCancel: () => void;
}

/** The body of an action that takes one, drawn from its schema like the create form. */
export function ActionForm({ kind, action, kinds, errors, busy, onSubmit, onCancel }: ActionFormProps) {
  const fields = Object.entries(action.body.properties ?? {});
  const required = new Set(action.body.required ?? []);
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const body: Record<string, unknown> = {};
    for (const [field, schema] of fields) {
      const v = fieldValue(form, `/${field}`, schema);
      if (v !== undefined) body[field] = v;
    }
    onSubmit(body);
  };
  return (
    <form class="create" aria-label={`${action.name} ${kind.name}`} onSubmit={submit}>
      {fields.map(([field, schema]) => (
        <Field
          key={field}
          path={`/${field}`}
          name={field}
          schema={schema}
          required={required.has(field)}
          kinds={kinds}
          errors={errors}
        />
      ))}
      <button type="submit" disabled={busy}>
        {action.name}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}
