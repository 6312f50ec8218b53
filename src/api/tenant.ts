// Which tenant a request acts for. Until API keys exist, one resolver decides it: by default
// every request belongs to the local tenant. The auth plugin will replace this resolver with
// the tenant of the request's key; nothing else in the API reads tenants another way.

import type { FastifyRequest } from 'fastify';

/** The tenant of an embedded, single-user installation. */
export const LOCAL_TENANT = 'local';

/** Picks the tenant of a request. */
export type TenantResolver = (request: FastifyRequest) => string;

/** Every request is the local tenant's. */
export const localTenant: TenantResolver = () => LOCAL_TENANT;

/**
 * Takes the tenant from a request header (tests of tenant isolation). Trusting a header is only
 * safe where every caller is trusted; it never becomes the default.
 */
export function tenantFromHeader(header: string, fallback: string = LOCAL_TENANT): TenantResolver {
  const name = header.toLowerCase();
  return (request) => {
    const value = request.headers[name];
    return typeof value === 'string' && value.length > 0 ? value : fallback;
  };
}
