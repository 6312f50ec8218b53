// The one resource plugin: for every registered kind, the routes `/v1/<kind>` (list, create)
// and `/v1/<kind>/:id` (get, patch, delete), all over the one service. A kind gets its routes
// by being in the registry.

import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import type { Accepted, ResourceService } from '../../control/service.js';
import type { KindDefinition } from '../../core/resources/kind.js';
import type { KindRegistry } from '../../core/resources/registry.js';
import type { TenantResolver } from '../tenant.js';
import {
  DEFAULT_LIMIT,
  decodeCursor,
  encodeCursor,
  etag,
  MAX_LIMIT,
  parseIfMatch,
  parseLabelSelector,
} from './query.js';

/** Options of {@link resourceRoutes}. */
export interface ResourceRoutesOptions {
  readonly service: ResourceService;
  readonly kinds: KindRegistry;
  readonly tenant: TenantResolver;
}

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    labelSelector: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

/** The answer to an accepted mutation: 202 with the operation to follow, 200 when there is none. */
function sendAccepted(reply: FastifyReply, accepted: Accepted): FastifyReply {
  reply.header('etag', etag(accepted.resource.resourceVersion));
  if (!accepted.operation) return reply.code(200).send(accepted);
  reply.header('location', `/v1/operations/${accepted.operation.id}`);
  return reply.code(202).send(accepted);
}

function routesOf(app: FastifyInstance, kind: KindDefinition, options: ResourceRoutesOptions): void {
  const { service, tenant } = options;
  const base = `/${kind.name}`;

  app.get(base, { schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query as { limit?: number; cursor?: string; labelSelector?: string };
    const limit = q.limit ?? DEFAULT_LIMIT;
    const items = await service.list(tenant(request), kind.name, {
      limit: limit + 1,
      ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor) }),
      ...(q.labelSelector === undefined ? {} : { labels: parseLabelSelector(q.labelSelector) }),
    });
    const page = items.slice(0, limit);
    return items.length > limit
      ? { items: page, nextCursor: encodeCursor(page.at(-1)!.id) }
      : { items: page };
  });

  app.post(base, async (request, reply) =>
    sendAccepted(reply, await service.create(tenant(request), kind.name, request.body)),
  );

  app.get(`${base}/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const resource = await service.get(tenant(request), kind.name, id);
    return reply.header('etag', etag(resource.resourceVersion)).send(resource);
  });

  app.patch(`${base}/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const ifMatch = parseIfMatch(request.headers['if-match']);
    return sendAccepted(reply, await service.patch(tenant(request), kind.name, id, request.body, ifMatch));
  });

  app.delete(`${base}/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const ifMatch = parseIfMatch(request.headers['if-match']);
    return sendAccepted(reply, await service.delete(tenant(request), kind.name, id, ifMatch));
  });
}

/** Registers the routes of every kind in the registry (inside the `/v1` scope). */
export async function resourceRoutes(app: FastifyInstance, options: ResourceRoutesOptions): Promise<void> {
  // A merge patch is JSON: parse it with the same parser (and the same body limit).
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  for (const kind of options.kinds.all()) routesOf(app, kind, options);
}
