// The one resource plugin: for every registered kind, the routes `/v1/<kind>` (list, create),
// `/v1/<kind>/:id` (get, patch, delete) and `/v1/<kind>/:id/<action>` for each action the kind
// declares, all over the one service. A kind gets its routes
// by being in the registry.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fingerprintOf } from '../../control/idempotency.js';
import type { Answer, MutationOptions, ResourceService } from '../../control/service.js';
import type { KindDefinition } from '../../core/resources/kind.js';
import type { KindRegistry } from '../../core/resources/registry.js';
import type { Resource } from '../../core/resources/resource.js';
import { traceparentOf } from '../plugins/tracing.js';
import type { TenantResolver } from '../tenant.js';
import { hold } from './hold.js';
import {
  DEFAULT_LIMIT,
  decodeCursor,
  encodeCursor,
  etag,
  parseIdempotencyKey,
  parseIfMatch,
  parseLabelSelector,
  parseWait,
} from './query.js';
import { DeleteQuery, IdParams, ListQuery, WaitQuery } from './schemas.js';

/** Options of {@link resourceRoutes}. */
export interface ResourceRoutesOptions {
  readonly service: ResourceService;
  readonly kinds: KindRegistry;
  readonly tenant: TenantResolver;
  /** Between two reads of a resource held by `?wait=`. */
  readonly pollMs: number;
  /** Aborts held requests (the server is closing). */
  readonly signal: AbortSignal;
}

/** Whether a resource's latest generation has been reconciled, or has failed. */
function settled(resource: Resource): boolean {
  return (
    resource.status.phase === 'Failed' ||
    (resource.status.observedGeneration === resource.generation && resource.deletionRequestedAt === null)
  );
}

/**
 * Sends a mutation's answer: 202 with the operation to follow, 200 when there is none; the
 * stored bytes on an Idempotency-Key replay, marked by `Idempotent-Replayed: true`.
 */
function sendAnswer(reply: FastifyReply, answer: Answer): FastifyReply {
  reply.header('etag', etag(answer.resourceVersion));
  if (answer.operationId) reply.header('location', `/v1/operations/${answer.operationId}`);
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
}

/** The mutation options of a request: `If-Match` and `Idempotency-Key`. */
function mutationOptions(request: FastifyRequest): MutationOptions {
  const ifMatch = parseIfMatch(request.headers['if-match']);
  const key = parseIdempotencyKey(request.headers['idempotency-key']);
  // A cascading delete is another request than a plain one under the same key.
  const cascade = (request.query as { cascade?: boolean } | undefined)?.cascade === true;
  const path = request.url.split('?')[0]! + (cascade ? '?cascade=true' : '');
  const trace = traceparentOf(request);
  return {
    ...(ifMatch === undefined ? {} : { ifMatch }),
    ...(trace === undefined ? {} : { trace }),
    ...(key === undefined
      ? {}
      : { idempotency: { key, fingerprint: fingerprintOf(request.method, path, request.body) } }),
  };
}

function routesOf(app: FastifyInstance, kind: KindDefinition, options: ResourceRoutesOptions): void {
  const { service, tenant } = options;
  const base = `/${kind.name}`;

  app.get(base, { schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query as { limit?: number; cursor?: string; labelSelector?: string; owner?: string };
    const limit = q.limit ?? DEFAULT_LIMIT;
    const items = await service.list(tenant(request), kind.name, {
      limit: limit + 1,
      ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor) }),
      ...(q.labelSelector === undefined ? {} : { labels: parseLabelSelector(q.labelSelector) }),
      ...(q.owner === undefined ? {} : { owner: q.owner }),
    });
    const page = items.slice(0, limit);
    return items.length > limit
      ? { items: page, nextCursor: encodeCursor(page.at(-1)!.id) }
      : { items: page };
  });

  app.post(base, async (request, reply) =>
    sendAnswer(
      reply,
      await service.create(tenant(request), kind.name, request.body, mutationOptions(request)),
    ),
  );

  app.get(`${base}/:id`, { schema: { params: IdParams, querystring: WaitQuery } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { wait } = request.query as { wait?: string };
    const t = tenant(request);
    let resource = await service.get(t, kind.name, id);
    // Held until the latest generation is reconciled (or failed); a delete that completes
    // meanwhile answers 404.
    if (wait !== undefined)
      resource = await hold(resource, () => service.get(t, kind.name, id), settled, parseWait(wait), options);
    return reply.header('etag', etag(resource.resourceVersion)).send(resource);
  });

  app.patch(`${base}/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const answer = await service.patch(
      tenant(request),
      kind.name,
      id,
      request.body,
      mutationOptions(request),
    );
    return sendAnswer(reply, answer);
  });

  app.delete(
    `${base}/:id`,
    { schema: { params: IdParams, querystring: DeleteQuery } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { cascade } = request.query as { cascade?: boolean };
      const options = { ...mutationOptions(request), ...(cascade ? { cascade: true } : {}) };
      return sendAnswer(reply, await service.delete(tenant(request), kind.name, id, options));
    },
  );

  for (const action of Object.keys(kind.actions ?? {}))
    app.post(`${base}/:id/${action}`, { schema: { params: IdParams } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const answer = await service.act(
        tenant(request),
        kind.name,
        id,
        action,
        request.body,
        mutationOptions(request),
      );
      return sendAnswer(reply, answer);
    });
}

/** Registers the routes of every kind in the registry (inside the `/v1` scope). */
export async function resourceRoutes(app: FastifyInstance, options: ResourceRoutesOptions): Promise<void> {
  // A merge patch is JSON: parse it with the same parser (and the same body limit). An empty
  // body with a JSON media type (a DELETE or an action sent by a client that always sets
  // `Content-Type`) is no body, not malformed JSON: the route's schema then says what it needs.
  const json = app.getDefaultJsonParser('error', 'error');
  const orEmpty: typeof json = (request, body, done) =>
    body === '' || (Buffer.isBuffer(body) && body.length === 0)
      ? done(null, undefined)
      : json(request, body, done);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, orEmpty);
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, orEmpty);
  for (const kind of options.kinds.all()) routesOf(app, kind, options);
}
