// `stratus system replicas|leaders|queues|breakers|controllers|dead-letters [redrive KEY]` and
// `stratus operations get|wait ID`: the operator's reads of `/v1/system` and the operations.

import type { Context } from './context.js';
import { intOption } from './context.js';
import { usageError } from './errors.js';
import { age, type Column, print } from './output.js';
import { type OperationView, statusPhrase, waitForOperation } from './wait.js';

type Row = Record<string, unknown> & { items?: never };
const at =
  (...path: string[]) =>
  (r: Row): unknown =>
    path.reduce<unknown>((v, k) => (v as Record<string, unknown> | null | undefined)?.[k], r);
const ago = (field: string) => (r: Row) => age(r[field] as string | null);
const ms = (field: string) => (r: Row) => (r[field] === null ? null : `${Math.round(Number(r[field]))}ms`);

/** Each system listing: its route, its columns and the field naming a row for `-o name`. */
export const SYSTEM_VIEWS: Record<string, { path: string; columns: Column<Row>[]; name: string }> = {
  replicas: {
    path: '/v1/system/replicas',
    name: 'nodeId',
    columns: [
      { header: 'node', value: at('nodeId') },
      { header: 'role', value: at('role') },
      { header: 'state', value: at('state') },
      { header: 'draining', value: at('draining') },
      { header: 'silent', value: ms('silentMs') },
      { header: 'host', value: at('host') },
      { header: 'version', value: at('version') },
      { header: 'age', value: ago('startedAt') },
    ],
  },
  leaders: {
    path: '/v1/system/leaders',
    name: 'key',
    columns: [
      { header: 'key', value: at('key') },
      { header: 'epoch', value: at('epoch') },
      { header: 'holder', value: at('holder') },
      { header: 'holder-state', value: at('holderState') },
      { header: 'open', value: at('open') },
      { header: 'since', value: ago('since') },
    ],
  },
  queues: {
    path: '/v1/system/queues',
    name: 'name',
    columns: [
      { header: 'name', value: at('name') },
      { header: 'backend', value: at('backend') },
      { header: 'depth', value: at('depth') },
      { header: 'waiting', value: at('waiting') },
      { header: 'in-flight', value: at('inFlight') },
      { header: 'delayed', value: at('delayed') },
      { header: 'outbox', value: at('outbox', 'waiting') },
      { header: 'leased', value: at('ledger', 'leased') },
      { header: 'expired', value: at('ledger', 'expired') },
      { header: 'retrying', value: at('ledger', 'retrying') },
      { header: 'dead', value: at('ledger', 'deadLettered') },
    ],
  },
  breakers: {
    path: '/v1/system/breakers',
    name: 'port',
    columns: [
      { header: 'node', value: at('node') },
      { header: 'port', value: at('port') },
      { header: 'state', value: at('state') },
      { header: 'since', value: ago('since') },
      { header: 'failures', value: at('consecutiveFailures') },
      { header: 'total-failures', value: at('totalFailures') },
      { header: 'rejected', value: at('totalRejected') },
      { header: 'retry-after', value: ms('retryAfterMs') },
    ],
  },
  controllers: {
    path: '/v1/system/controllers',
    name: 'name',
    columns: [
      { header: 'name', value: at('name') },
      { header: 'passes', value: at('passes') },
      { header: 'errors', value: at('errors') },
      { header: 'last-pass', value: ago('lastPassEndedAt') },
      { header: 'pass-time', value: ms('lastPassMs') },
      { header: 'lag', value: ms('lagMs') },
      { header: 'last-error', value: at('lastError') },
    ],
  },
  'dead-letters': {
    path: '/v1/system/dead-letters',
    name: 'jobKey',
    columns: [
      { header: 'job', value: at('jobKey') },
      { header: 'attempts', value: at('attempts') },
      { header: 'failed', value: ago('failedAt') },
      { header: 'redrives', value: at('redrives') },
      { header: 'operation', value: at('operation', 'id') },
      { header: 'error', value: at('lastError') },
    ],
  },
};

/** Runs `stratus system …`. */
export async function runSystem(ctx: Context): Promise<number> {
  const [, view, sub, key, extra] = ctx.positionals;
  const { options, format, out } = ctx;
  const spec = view === undefined ? undefined : SYSTEM_VIEWS[view];
  if (spec === undefined)
    throw usageError(
      `system: ${view === undefined ? 'expected' : `unknown view "${view}":`} one of ${Object.keys(SYSTEM_VIEWS).join(', ')}`,
    );
  if (view === 'dead-letters' && sub === 'redrive') {
    if (key === undefined || extra !== undefined)
      throw usageError('system dead-letters redrive: expected one job key');
    const answer = await ctx
      .client()
      .request<{ jobKey: string; operation: OperationView | null }>(
        'POST',
        `${spec.path}/${encodeURIComponent(key)}/redrive`,
        { idempotencyKey: ctx.idempotencyKey },
      );
    let result: unknown = answer;
    if (options.wait && answer.operation) {
      result = await waitForOperation(ctx.client(), answer.operation.id, {
        out: format === 'table' ? out : undefined,
        live: ctx.tty && format === 'table',
        timeoutMs: ctx.timeoutMs,
        deadline: ctx.deadline,
      });
    }
    if (format === 'table')
      out.write(
        `${answer.jobKey} redriven${answer.operation ? `: operation ${answer.operation.id} ${(result as { state?: string }).state ?? answer.operation.state}` : ''}\n`,
      );
    else if (format === 'name') out.write(`${answer.jobKey}\n`);
    else await print(out, format, result, [], [], () => answer.jobKey);
    return 0;
  }
  if (sub !== undefined) throw usageError(`unexpected argument "${sub}"`);
  const query: Record<string, string | number | undefined> = {};
  if (view === 'leaders') {
    query.key = options.key;
    query.limit = intOption(options.limit, '--limit');
  }
  if (view === 'dead-letters') {
    query.kind = options.kind;
    query.limit = intOption(options.limit, '--limit');
  }
  const answer = await ctx.client().request<{ items: Row[] }>('GET', spec.path, { query });
  await print(out, format, answer, answer.items, spec.columns, (r) => String(r[spec.name]));
  return 0;
}

const operationColumns: Column<OperationView>[] = [
  { header: 'id', value: (o) => o.id },
  { header: 'verb', value: (o) => o.action ?? o.verb },
  { header: 'resource', value: (o) => `${o.kind}/${o.resource?.name ?? o.resourceId}` },
  { header: 'generation', value: (o) => o.generation },
  { header: 'state', value: (o) => o.state },
  { header: 'age', value: (o) => age(o.createdAt) },
  { header: 'status', value: (o) => statusPhrase(o.resource) },
  { header: 'error', value: (o) => (o.error ? `${o.error.reason}: ${o.error.message}` : null) },
];

/** Runs `stratus operations get|wait ID`. */
export async function runOperations(ctx: Context): Promise<number> {
  const [, verb, id, extra] = ctx.positionals;
  if ((verb !== 'get' && verb !== 'wait') || id === undefined || extra !== undefined)
    throw usageError('operations: expected get ID or wait ID');
  const { format, out } = ctx;
  const op =
    verb === 'get'
      ? await ctx.client().request<OperationView>('GET', `/v1/operations/${encodeURIComponent(id)}`)
      : await waitForOperation(ctx.client(), id, {
          out: format === 'table' ? out : undefined,
          live: ctx.tty && format === 'table',
          timeoutMs: ctx.timeoutMs,
          deadline: ctx.deadline,
        });
  await print(out, format, op, [op], operationColumns, (o) => `operations/${o.id}`);
  return 0;
}
