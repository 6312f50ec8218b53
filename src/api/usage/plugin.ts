// `GET /v1/usage` (a page of the tenant's recorded minutes) and `GET /v1/billing/summary` (its
// minutes and charges per kind and size over a period). Reads only, of the request's tenant only:
// any role may call them, and no filter reaches another tenant's rows.
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../control/errors.js';
import type { UsageStore } from '../../controllers/accounting/usage-store.js';
import { DEFAULT_LIMIT } from '../resources/query.js';
import type { TenantResolver } from '../tenant.js';
import { BillingQuery, type BillingSummaryT, UsageQuery } from './schemas.js';

/** Options of {@link usageRoutes}. */
export interface UsageRoutesOptions {
  readonly store: UsageStore;
  readonly tenant: TenantResolver;
  /** Default `Date.now`: the `to` of a summary without one. */
  readonly now?: () => number;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

function parseTime(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!RFC3339.test(value) || Number.isNaN(ms))
    throw new BadRequestError(
      `/querystring/${field}`,
      'must be a date-time (RFC 3339), e.g. 2026-01-31T00:00:00Z',
    );
  return new Date(ms);
}

function ordered(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from.getTime() > to.getTime())
    throw new BadRequestError('/querystring/to', 'must not be before from');
}

const encodeCursor = (minute: string, resourceId: string) =>
  Buffer.from(`${minute}|${resourceId}`, 'utf8').toString('base64url');

function decodeCursor(cursor: string): { minute: Date; resourceId: string } {
  const [minute, resourceId, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const ms = Date.parse(minute ?? '');
  if (rest.length > 0 || !resourceId || !/^[\x21-\x7e]{1,64}$/.test(resourceId) || Number.isNaN(ms))
    throw new BadRequestError('/querystring/cursor', 'is not a cursor of this listing');
  if (encodeCursor(minute!, resourceId) !== cursor)
    throw new BadRequestError('/querystring/cursor', 'is not a cursor of this listing');
  return { minute: new Date(ms), resourceId };
}

/** Registers the usage routes (inside the `/v1` scope). */
export async function usageRoutes(app: FastifyInstance, options: UsageRoutesOptions): Promise<void> {
  const { store, tenant } = options;
  const now = options.now ?? Date.now;

  app.get('/usage', { schema: { querystring: UsageQuery } }, async (request) => {
    const q = request.query as {
      resource?: string;
      kind?: string;
      from?: string;
      to?: string;
      limit?: number;
      cursor?: string;
    };
    const from = parseTime(q.from, 'from');
    const to = parseTime(q.to, 'to');
    ordered(from, to);
    const limit = q.limit ?? DEFAULT_LIMIT;
    const rows = await store.list({
      tenant: tenant(request),
      limit: limit + 1,
      ...(q.resource === undefined ? {} : { resourceId: q.resource }),
      ...(q.kind === undefined ? {} : { kind: q.kind }),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor) }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return rows.length > limit && last
      ? { items, nextCursor: encodeCursor(last.minute, last.resourceId) }
      : { items };
  });

  app.get(
    '/billing/summary',
    { schema: { querystring: BillingQuery } },
    async (request): Promise<BillingSummaryT> => {
      const q = request.query as { from?: string; to?: string };
      const to = parseTime(q.to, 'to') ?? new Date(now());
      const from = parseTime(q.from, 'from') ?? new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), 1));
      ordered(from, to);
      const items = await store.summary(tenant(request), from, to);
      const total = items.reduce(
        (t, i) => ({ minutes: t.minutes + i.minutes, amount: t.amount + i.amount }),
        {
          minutes: 0,
          amount: 0,
        },
      );
      return { from: from.toISOString(), to: to.toISOString(), items, total };
    },
  );
}
