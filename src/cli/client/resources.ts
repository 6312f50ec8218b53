// `stratus <kind> list|get|create|update|delete|<action>`: one set of verbs for every kind of the
// registry. A kind gets its commands, its table columns and the types of its `--set` fields from
// its definition; nothing here names a kind.

import { readFileSync } from 'node:fs';
import type { KindDefinition } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import type { Context } from './context.js';
import { intOption } from './context.js';
import { CliError, EXIT, usageError } from './errors.js';
import { age, type Column, print, table } from './output.js';
import { applySets, parseLabels, type SchemaNode, specColumns } from './schema.js';
import { isTerminal, type OperationView, statusPhrase, waitForOperation } from './wait.js';

/** The verbs every kind has; its actions come after them. */
export const RESOURCE_VERBS = ['list', 'get', 'create', 'update', 'delete'] as const;

/** A mutation's answer: the resource and the operation carrying the change (null: nothing to do). */
interface Accepted {
  readonly resource: Resource;
  readonly operation: Omit<OperationView, 'resource'> | null;
}

/** The columns of a kind's table: name, id, phase, age, then its short spec fields. */
export function resourceColumns(kind: KindDefinition): Column<Resource>[] {
  return [
    { header: 'name', value: (r) => r.name },
    { header: 'id', value: (r) => r.id },
    { header: 'phase', value: (r) => r.status.phase },
    { header: 'age', value: (r) => age(r.createdAt) },
    ...specColumns(kind.spec as SchemaNode).map((field) => ({
      header: field,
      value: (r: Resource) => (r.spec as Record<string, unknown>)[field],
    })),
  ];
}

const nameOf = (r: Resource) => `${r.kind}/${r.name}`;
const isId = (kind: KindDefinition, value: string) =>
  new RegExp(`^${kind.idPrefix}_[0-9a-z]{26}$`).test(value);

/** Every resource of the kind matching the selector, all pages (or `limit` of them). */
async function listAll(ctx: Context, kind: KindDefinition, selector?: string, limit?: number) {
  const items: Resource[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx
      .client()
      .request<{ items: Resource[]; nextCursor?: string }>('GET', `/v1/${kind.name}`, {
        query: { labelSelector: selector, cursor, limit: Math.min(500, limit ?? 500) },
      });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && (limit === undefined || items.length < limit));
  return limit === undefined ? items : items.slice(0, limit);
}

/** The id a command line names: an id as it is, a name looked up among the kind's resources. */
export async function resolveId(ctx: Context, kind: KindDefinition, nameOrId: string): Promise<string> {
  if (isId(kind, nameOrId)) return nameOrId;
  const found = (await listAll(ctx, kind)).find((r) => r.name === nameOrId);
  if (!found) throw new CliError(`no ${kind.name} named "${nameOrId}"`, EXIT.notFound);
  return found.id;
}

/** Reads `--file`: YAML or JSON (JSON is YAML), `-` for stdin. */
async function readDocument(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw usageError(`--file: cannot read ${path}: ${(err as Error).message}`);
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw usageError(`--file ${path}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw usageError(`--file ${path}: expected an object such as { name, labels, spec }`);
  return doc as Record<string, unknown>;
}

/** Top-level reference fields given as names become ids, so `--set network=demo` works. */
async function resolveReferences(ctx: Context, kind: KindDefinition, spec: Record<string, unknown>) {
  for (const ref of kind.references ?? []) {
    if (ref.field.includes('/')) continue;
    const value = spec[ref.field];
    const target = ctx.kinds.get(ref.kind);
    if (typeof value === 'string' && target && !isId(target, value))
      spec[ref.field] = await resolveId(ctx, target, value);
  }
}

/**
 * The spec and labels a create or update sends: those of the `--file` document, with `--set`
 * (typed by the kind's schema, references resolved from names) and `--label` on top.
 */
async function specAndLabels(
  ctx: Context,
  kind: KindDefinition,
  doc: Record<string, unknown>,
): Promise<{ spec: Record<string, unknown>; labels: Record<string, string> }> {
  const spec = applySets(
    { ...((doc.spec as Record<string, unknown> | undefined) ?? {}) },
    ctx.options.set ?? [],
    kind.spec as SchemaNode,
  );
  await resolveReferences(ctx, kind, spec);
  const labels = {
    ...((doc.labels as Record<string, string> | undefined) ?? {}),
    ...parseLabels(ctx.options.label ?? []),
  };
  return { spec, labels };
}

function one(ctx: Context, what: string): string {
  const [, , arg, extra] = ctx.positionals;
  if (arg === undefined) throw usageError(`${ctx.positionals.slice(0, 2).join(' ')}: expected ${what}`);
  if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`);
  return arg;
}

/** Prints a mutation's answer, following its operation with `--wait`. */
async function finish(
  ctx: Context,
  kind: KindDefinition,
  answer: Accepted,
  done: string,
  unchanged = 'unchanged: already in effect',
): Promise<number> {
  const { format, out } = ctx;
  const subject = nameOf(answer.resource);
  if (!ctx.options.wait || answer.operation === null || isTerminal(answer.operation.state)) {
    if (format === 'table')
      out.write(
        answer.operation === null
          ? `${subject} ${unchanged}\n`
          : `${subject} ${done}: operation ${answer.operation.id} ${answer.operation.state}\n`,
      );
    else await print(out, format, answer, [answer.resource], [], nameOf);
    return 0;
  }
  const op = await waitForOperation(ctx.client(), answer.operation.id, {
    out: format === 'table' ? out : undefined,
    live: ctx.tty && format === 'table',
    timeoutMs: ctx.timeoutMs,
    deadline: ctx.deadline,
  });
  if (format === 'table') {
    if (op.resource) out.write(table([op.resource], resourceColumns(kind)));
    else out.write(`${subject} ${done}\n`);
  } else await print(out, format, op, [answer.resource], [], nameOf);
  return 0;
}

/** Runs `stratus <kind> <verb> …`. */
export async function runResourceCommand(ctx: Context, kind: KindDefinition): Promise<number> {
  const verb = ctx.positionals[1];
  const { options, format, out } = ctx;
  const client = () => ctx.client();
  const base = `/v1/${kind.name}`;
  const mutation = { idempotencyKey: ctx.idempotencyKey };
  switch (verb) {
    case 'list': {
      if (ctx.positionals.length > 2) throw usageError(`unexpected argument "${ctx.positionals[2]}"`);
      const items = await listAll(ctx, kind, options.selector, intOption(options.limit, '--limit'));
      if (format === 'table' && items.length === 0) {
        ctx.err.write(`no ${kind.name}${options.selector ? ` matching ${options.selector}` : ''}\n`);
        return 0;
      }
      await print(out, format, { items }, items, resourceColumns(kind), nameOf);
      return 0;
    }
    case 'get': {
      const id = await resolveId(ctx, kind, one(ctx, 'a name or id'));
      const resource = await client().request<Resource>('GET', `${base}/${id}`, {
        ...(options.wait ? { query: { wait: `${Math.min(ctx.timeoutMs, 50_000)}ms` } } : {}),
      });
      if (options.wait && resource.status.phase !== 'Ready' && resource.status.phase !== 'Failed')
        throw new CliError(
          `timed out waiting for ${nameOf(resource)}: ${statusPhrase(resource)}`,
          EXIT.timeout,
        );
      await print(out, format, resource, [resource], resourceColumns(kind), nameOf);
      return resource.status.phase === 'Failed' && options.wait ? EXIT.failure : 0;
    }
    case 'create': {
      const [, , name, extra] = ctx.positionals;
      if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`);
      const doc = options.file ? await readDocument(options.file) : {};
      if (doc.kind !== undefined && doc.kind !== kind.name)
        throw usageError(`--file: the document is of kind "${String(doc.kind)}", not ${kind.name}`);
      const { spec, labels } = await specAndLabels(ctx, kind, doc);
      const body = {
        name: name ?? doc.name,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        spec,
      };
      if (body.name === undefined)
        throw usageError(`${kind.name} create: expected a name (an argument or "name" in --file)`);
      const answer = await client().request<Accepted>('POST', base, { body, ...mutation });
      return finish(ctx, kind, answer, 'created');
    }
    case 'update': {
      const id = await resolveId(ctx, kind, one(ctx, 'a name or id'));
      const doc = options.file ? await readDocument(options.file) : {};
      const { spec, labels } = await specAndLabels(ctx, kind, doc);
      const patch = {
        ...(Object.keys(spec).length > 0 ? { spec } : {}),
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      };
      if (Object.keys(patch).length === 0)
        throw usageError(`${kind.name} update: nothing to change: give --set, --label or --file`);
      const answer = await client().request<Accepted>('PATCH', `${base}/${id}`, { body: patch, ...mutation });
      return finish(ctx, kind, answer, 'updated', 'labels updated (no change of spec)');
    }
    case 'delete': {
      const id = await resolveId(ctx, kind, one(ctx, 'a name or id'));
      const answer = await client().request<Accepted>('DELETE', `${base}/${id}`, {
        ...(options.cascade ? { query: { cascade: true } } : {}),
        ...mutation,
      });
      return finish(ctx, kind, answer, 'deleted');
    }
    default: {
      const action = verb === undefined ? undefined : kind.actions?.[verb];
      if (verb === undefined || action === undefined)
        throw usageError(
          `${kind.name}: ${verb === undefined ? 'expected a verb' : `unknown verb "${verb}"`}: one of ${[...RESOURCE_VERBS, ...Object.keys(kind.actions ?? {})].join(', ')}`,
        );
      const id = await resolveId(ctx, kind, one(ctx, 'a name or id'));
      const doc = options.file ? await readDocument(options.file) : {};
      const body = applySets({ ...doc }, options.set ?? [], (action.body ?? {}) as SchemaNode);
      const answer = await client().request<Accepted>('POST', `${base}/${id}/${verb}`, { body, ...mutation });
      return finish(ctx, kind, answer, `${verb} accepted`);
    }
  }
}
