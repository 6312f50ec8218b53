// `GET /v1/cron-jobs/:id/runs`: a page of a cron job's runs (its recorded slots and what each
// call did), newest first. A read of the request's tenant only: another tenant's job is a 404.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BadRequestError, NotFoundError } from '../../control/errors.js';
import type { CronRunStore } from '../../controllers/cron/runs-store.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../resources/query.js';
import type { TenantResolver } from '../tenant.js';

const RunsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size, default 50' }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page' })),
  },
  { additionalProperties: false },
);
const RunsParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

const encodeCursor = (slot: string) => Buffer.from(`runs|${slot}`, 'utf8').toString('base64url');

function decodeCursor(cursor: string): Date {
  const [tag, slot, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const ms = Date.parse(slot ?? '');
  if (tag !== 'runs' || rest.length > 0 || Number.isNaN(ms) || encodeCursor(slot!) !== cursor)
    throw new BadRequestError('/querystring/cursor', 'is not a cursor of this listing');
  return new Date(ms);
}

/** Options of {@link cronRoutes}. */
export interface CronRoutesOptions {
  readonly store: CronRunStore;
  readonly tenant: TenantResolver;
}

/** Registers the cron routes (inside the `/v1` scope). */
export async function cronRoutes(app: FastifyInstance, options: CronRoutesOptions): Promise<void> {
  app.get(
    '/cron-jobs/:id/runs',
    { schema: { params: RunsParams, querystring: RunsQuery } },
    async (request) => {
      const { id } = request.params as { id: string };
      const q = request.query as { limit?: number; cursor?: string };
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const tenant = options.tenant(request);
      if (!(await options.store.exists(tenant, id))) throw new NotFoundError(`cron-jobs/${id}`);
      const limit = q.limit ?? DEFAULT_LIMIT;
      const rows = await options.store.list(tenant, id, before, limit + 1);
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: encodeCursor(last.slot) } : { items };
    },
  );
}
