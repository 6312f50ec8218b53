// Who a request acts as: the key in `Authorization: Bearer <key>` (or `X-API-Key: <key>`),
// checked by the auth service; then the guards every route and other modules use.
//   401 (with WWW-Authenticate) when the key is missing, malformed, unknown or revoked;
//   403 when the key's role may not do this (a viewer changing anything, a member managing
//       keys, anyone but an operator on /v1/tenants and /v1/system).

import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AuthService, KeyRole, Principal } from '../../control/auth/index.js';
import { OPERATOR_TENANT } from '../../control/auth/index.js';
import { sendProblem } from '../problem.js';
import type { TenantResolver } from '../tenant.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook of the `/v1` scope on every request that passes it. */
    principal: Principal | null;
  }
}

/** How a `/v1` scope finds its principals: API keys, or a trusted resolver (tests only). */
export type PrincipalSource =
  | { readonly keys: AuthService }
  | { readonly trusted: (request: FastifyRequest) => Principal };

/** A trusted principal per request from a tenant resolver: an admin of that tenant (tests). */
export function trustedAdmin(tenant: TenantResolver): (request: FastifyRequest) => Principal {
  return (request) => {
    const t = tenant(request);
    return { keyId: 'trusted', tenant: t, role: 'admin', operator: t === OPERATOR_TENANT };
  };
}

const RANK: Readonly<Record<KeyRole, number>> = { viewer: 1, member: 2, admin: 3 };
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The key a request presents, if any. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return m ? m[1] : '';
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

function unauthorized(reply: FastifyReply, presented: boolean): FastifyReply {
  reply.header(
    'www-authenticate',
    presented ? 'Bearer realm="stratus", error="invalid_token"' : 'Bearer realm="stratus"',
  );
  return sendProblem(
    reply,
    401,
    'UNAUTHORIZED',
    presented
      ? 'the API key is malformed, unknown or revoked'
      : 'an API key is required: Authorization: Bearer <key>',
  );
}

export function forbidden(reply: FastifyReply, detail: string): FastifyReply {
  return sendProblem(reply, 403, 'FORBIDDEN', detail);
}

/**
 * Installs authentication on a scope: every request gets its `principal` or a 401, and a
 * viewer's request that is not a read is a 403.
 */
export function installAuthentication(scope: FastifyInstance, source: PrincipalSource): void {
  if (!scope.hasRequestDecorator('principal')) scope.decorateRequest('principal', null);
  scope.addHook('onRequest', async (request, reply) => {
    let principal: Principal | undefined;
    if ('trusted' in source) principal = source.trusted(request);
    else {
      const token = presentedKey(request);
      if (!token) return unauthorized(reply, token === '');
      principal = await source.keys.verify(token);
      if (!principal) return unauthorized(reply, true);
    }
    request.principal = principal;
    if (principal.role === 'viewer' && !READS.has(request.method))
      return forbidden(reply, 'a viewer key may only read');
  });
}

/** The principal of an authenticated request (the `/v1` hook has run). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('no principal: the route is outside the authenticated scope');
  return request.principal;
}

/** The tenant of an authenticated request. */
export const tenantOfPrincipal: TenantResolver = (request) => principalOf(request).tenant;

/** Whether a principal is a system operator: an admin key of the `local` tenant. */
export function isOperator(principal: Principal | null | undefined): boolean {
  return principal?.operator === true;
}

/**
 * A preHandler refusing with 403 a principal below `role` in its tenant; `operator` admits
 * only system operators. Use it in `{ preHandler: requireRole('admin') }` of routes inside `/v1`.
 */
export function requireRole(role: KeyRole | 'operator'): preHandlerAsyncHookHandler {
  return async function guard(request, reply) {
    const principal = request.principal;
    if (!principal) return forbidden(reply, 'no principal');
    if (role === 'operator') {
      if (!principal.operator) return forbidden(reply, `only an admin key of tenant ${OPERATOR_TENANT} may`);
      return;
    }
    if (RANK[principal.role] < RANK[role]) return forbidden(reply, `needs a key with role ${role} or above`);
  };
}
