// `/v1/tenants` (operators) and `/v1/api-keys` (a tenant's admins; operators may create a key
// for another tenant). Another tenant's key id answers 404, like every other route.

import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../control/auth/index.js';
import { BadRequestError, ValidationError } from '../../control/errors.js';
import { DEFAULT_LIMIT } from '../resources/query.js';
import { forbidden, principalOf, requireRole } from './authenticate.js';
import { KeyIdParams, PageQuery, TenantIdParams } from './schemas.js';

const encode = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
function decode(cursor: string | undefined, pattern: RegExp): string {
  if (cursor === undefined) return '';
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!pattern.test(id)) throw new BadRequestError('/querystring/cursor', 'is not a cursor of this listing');
  return id;
}
const TENANT_ID = /^[a-z0-9-]{1,63}$/;
const KEY_ID = /^[0-9A-Za-z]{12}$/;

async function page<T extends { id: string }>(
  read: (after: string, limit: number) => Promise<T[]>,
  query: { limit?: number; cursor?: string },
  pattern: RegExp,
): Promise<{ items: T[]; nextCursor?: string }> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const items = await read(decode(query.cursor, pattern), limit + 1);
  const items0 = items.slice(0, limit);
  return items.length > limit ? { items: items0, nextCursor: encode(items0.at(-1)!.id) } : { items: items0 };
}

const bodyObject = (body: unknown): Record<string, unknown> => {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ValidationError([{ path: '', message: 'must be a JSON object' }]);
  return body as Record<string, unknown>;
};

function unknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0)
    throw new ValidationError(
      extra.map((k) => ({ path: `/${k}`, message: 'is not a field of this request' })),
    );
}

/** Registers the tenant and key routes (inside the authenticated `/v1` scope). */
export async function authRoutes(app: FastifyInstance, auth: AuthService): Promise<void> {
  const operator = { preHandler: requireRole('operator') };
  const admin = { preHandler: requireRole('admin') };

  app.get('/tenants', { ...operator, schema: { querystring: PageQuery } }, (request) =>
    page((after, limit) => auth.listTenants(after, limit), request.query as object, TENANT_ID),
  );
  app.post('/tenants', operator, async (request, reply) => {
    const body = bodyObject(request.body);
    unknownFields(body, ['id']);
    const tenant = await auth.createTenant(body.id as string);
    return reply.code(201).header('location', `/v1/tenants/${tenant.id}`).send(tenant);
  });
  app.get('/tenants/:id', { ...operator, schema: { params: TenantIdParams } }, (request) =>
    auth.getTenant((request.params as { id: string }).id),
  );

  app.get('/api-keys', { ...admin, schema: { querystring: PageQuery } }, (request) =>
    page(
      (after, limit) => auth.listKeys(principalOf(request).tenant, after, limit),
      request.query as object,
      KEY_ID,
    ),
  );
  app.post('/api-keys', admin, async (request, reply) => {
    const body = bodyObject(request.body);
    unknownFields(body, ['name', 'role', 'tenant']);
    const principal = principalOf(request);
    let tenant = principal.tenant;
    if (body.tenant !== undefined && body.tenant !== principal.tenant) {
      if (!principal.operator) return forbidden(reply, 'only an operator may create a key of another tenant');
      if (typeof body.tenant !== 'string')
        throw new ValidationError([{ path: '/tenant', message: 'must be a tenant id' }]);
      tenant = body.tenant;
    }
    const { key, token } = await auth.createKey(tenant, {
      name: body.name as string,
      role: body.role as string,
    });
    reply.header('cache-control', 'no-store');
    return reply
      .code(201)
      .header('location', `/v1/api-keys/${key.id}`)
      .send({ ...key, key: token });
  });
  app.get('/api-keys/:id', { ...admin, schema: { params: KeyIdParams } }, (request) =>
    auth.getKey(principalOf(request).tenant, (request.params as { id: string }).id),
  );
  app.delete('/api-keys/:id', { ...admin, schema: { params: KeyIdParams } }, (request) =>
    auth.revokeKey(principalOf(request).tenant, (request.params as { id: string }).id),
  );
}
