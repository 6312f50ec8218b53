// The OpenAPI 3.1 document of the API, built from the kind registry and the schemas the routes
// validate with: a kind in the registry is in the document, with nothing written for it.

import type { TObject, TSchema } from 'typebox';
import type { KindRegistry } from '../../core/resources/registry.js';
import {
  ApiKeyCreate,
  ApiKeyCreated,
  ApiKeysPage,
  ApiKeyView,
  KeyIdParams,
  PageQuery,
  TenantCreate,
  TenantIdParams,
  TenantsPage,
  TenantView,
} from '../auth/schemas.js';
import { IdParams, ListQuery, WaitQuery } from '../resources/schemas.js';
import { kindNames } from './names.js';
import { Condition, kindSchemas, Operation, OperationView, Phase, Problem, Resource } from './schemas.js';

type Json = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema: no `$id` (the component's key names it), no `~` marks. */
function plain(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plain);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$id' || key.startsWith('~')) continue;
    out[key] = plain(value);
  }
  return out;
}

/** The parameters of one part (`path`, `query`) from a route's TypeBox object. */
function parameters(schema: TObject, where: 'path' | 'query'): Json[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = plain(property) as Json;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    };
  });
}

const json = (name: string): Json => ({
  'application/json': { schema: { $ref: `#/components/schemas/${name}` } },
});
const header = (name: string): Json => ({ $ref: `#/components/headers/${name}` });
const param = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });
const problems = (...statuses: number[]): Json =>
  Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/Problem${s}` }]));

const PROBLEM_STATUSES: Readonly<Record<number, string>> = {
  400: 'malformed JSON, a bad query value or header',
  401: 'no API key, or a malformed, unknown or revoked one (see WWW-Authenticate)',
  403: 'the key’s role may not do this (a viewer changing anything, a member managing keys, a non-operator on /v1/tenants)',
  429: 'over the rate limit of this key: retry after Retry-After seconds',
  404: 'no such resource (or another tenant’s)',
  409: 'a name clash, referrers, a resource being deleted, an Idempotency-Key in flight',
  412: 'If-Match is stale',
  413: 'body over 1 MiB',
  415: 'not JSON',
  422: 'a field fails validation, or an Idempotency-Key reused with another request',
  500: 'the request could not be served; it is safe to retry',
};

/** Operations of one kind, keyed by path then method. */
function kindPaths(kindName: string): Record<string, Json> {
  const { one, many } = kindNames(kindName);
  const mutation = [param('IdempotencyKey')];
  const accepted = (name: string): Json => ({
    description: 'accepted: follow the operation',
    headers: {
      ETag: header('ETag'),
      Location: header('Location'),
      'Idempotent-Replayed': header('Replayed'),
    },
    content: json(name),
  });
  const tags = [kindName];
  return {
    [`/v1/${kindName}`]: {
      get: {
        operationId: `list${many}`,
        tags,
        summary: `List ${kindName}, ordered by id`,
        parameters: parameters(ListQuery, 'query'),
        responses: { 200: { description: 'one page', content: json(`${many}Page`) }, ...problems(400, 500) },
      },
      post: {
        operationId: `create${one}`,
        tags,
        summary: `Create a ${one}`,
        parameters: mutation,
        requestBody: { required: true, content: json(`${one}Create`) },
        responses: { 202: accepted(`${one}Accepted`), ...problems(400, 409, 413, 415, 422, 500) },
      },
    },
    [`/v1/${kindName}/{id}`]: {
      parameters: parameters(IdParams, 'path'),
      get: {
        operationId: `get${one}`,
        tags,
        summary: `Get a ${one}`,
        parameters: parameters(WaitQuery, 'query'),
        responses: {
          200: { description: 'the resource', headers: { ETag: header('ETag') }, content: json(one) },
          ...problems(400, 404, 500),
        },
      },
      patch: {
        operationId: `patch${one}`,
        tags,
        summary: `Change a ${one}'s labels or spec (JSON merge patch)`,
        parameters: [...mutation, param('IfMatch')],
        requestBody: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: { $ref: `#/components/schemas/${one}Patch` } },
            ...json(`${one}Patch`),
          },
        },
        responses: {
          200: {
            description: 'labels only: no operation',
            headers: { ETag: header('ETag') },
            content: json(`${one}Patched`),
          },
          202: accepted(`${one}Patched`),
          ...problems(400, 404, 409, 412, 413, 415, 422, 500),
        },
      },
      delete: {
        operationId: `delete${one}`,
        tags,
        summary: `Delete a ${one}`,
        parameters: [...mutation, param('IfMatch')],
        responses: { 202: accepted(`${one}Accepted`), ...problems(400, 404, 409, 412, 422, 500) },
      },
    },
  };
}

/** `/v1/tenants` and `/v1/api-keys`. */
function authPaths(): Record<string, Json> {
  const created = (name: string): Json => ({
    description: 'created',
    headers: { Location: { description: 'the new item', schema: { type: 'string' } } },
    content: json(name),
  });
  return {
    '/v1/tenants': {
      get: {
        operationId: 'listTenants',
        tags: ['tenants'],
        summary: 'List tenants, ordered by id (operators)',
        parameters: parameters(PageQuery, 'query'),
        responses: { 200: { description: 'one page', content: json('TenantsPage') }, ...problems(400, 500) },
      },
      post: {
        operationId: 'createTenant',
        tags: ['tenants'],
        summary: 'Create a tenant (operators)',
        requestBody: { required: true, content: json('TenantCreate') },
        responses: { 201: created('Tenant'), ...problems(400, 409, 413, 415, 422, 500) },
      },
    },
    '/v1/tenants/{id}': {
      parameters: parameters(TenantIdParams, 'path'),
      get: {
        operationId: 'getTenant',
        tags: ['tenants'],
        summary: 'Get a tenant (operators)',
        responses: {
          200: { description: 'the tenant', content: json('Tenant') },
          ...problems(400, 404, 500),
        },
      },
    },
    '/v1/api-keys': {
      get: {
        operationId: 'listApiKeys',
        tags: ['api-keys'],
        summary: 'List the keys of your tenant, without their secrets (admins)',
        parameters: parameters(PageQuery, 'query'),
        responses: { 200: { description: 'one page', content: json('ApiKeysPage') }, ...problems(400, 500) },
      },
      post: {
        operationId: 'createApiKey',
        tags: ['api-keys'],
        summary: 'Create a key (admins); the answer is the only time the key is shown',
        requestBody: { required: true, content: json('ApiKeyCreate') },
        responses: { 201: created('ApiKeyCreated'), ...problems(400, 413, 415, 422, 500) },
      },
    },
    '/v1/api-keys/{id}': {
      parameters: parameters(KeyIdParams, 'path'),
      get: {
        operationId: 'getApiKey',
        tags: ['api-keys'],
        summary: 'Get a key of your tenant, without its secret (admins)',
        responses: { 200: { description: 'the key', content: json('ApiKey') }, ...problems(400, 404, 500) },
      },
      delete: {
        operationId: 'revokeApiKey',
        tags: ['api-keys'],
        summary: 'Revoke a key: refused by every replica once this answers (admins)',
        responses: {
          200: { description: 'the revoked key', content: json('ApiKey') },
          ...problems(400, 404, 500),
        },
      },
    },
  };
}

/** Every `/v1` operation needs a key, may be refused for its role, and is rate limited. */
function withAuthAnswers(paths: Record<string, Json>): void {
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of ['get', 'post', 'patch', 'delete']) {
      const op = item[method] as Json | undefined;
      if (op) op.responses = { ...(op.responses as Json), ...problems(401, 403, 429) };
    }
  }
}

/** The paths outside the kinds: operations, health and metrics. */
function fixedPaths(): Record<string, Json> {
  const open = { security: [] };
  return {
    '/v1/operations/{id}': {
      parameters: parameters(IdParams, 'path'),
      get: {
        operationId: 'getOperation',
        tags: ['operations'],
        summary: 'How an accepted change is going, with the resource as it is now',
        parameters: parameters(WaitQuery, 'query'),
        responses: {
          200: { description: 'the operation', content: json('OperationView') },
          ...problems(400, 404, 500),
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'getHealth',
        ...open,
        tags: ['health'],
        summary: 'The process is alive (no dependency is checked)',
        responses: {
          200: { description: 'alive', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        ...open,
        tags: ['health'],
        summary: 'Prometheus metrics of this process',
        responses: {
          200: {
            description: 'the text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        ...open,
        tags: ['health'],
        summary: 'Every dependency answers',
        responses: {
          200: { description: 'ready', content: { 'application/json': { schema: { type: 'object' } } } },
          503: {
            description: 'not ready: the failing checks',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  };
}

function components(kinds: KindRegistry): Json {
  const named: TSchema[] = [
    Condition,
    Phase,
    Operation,
    OperationView,
    Problem,
    Resource,
    TenantCreate,
    TenantView,
    TenantsPage,
    ApiKeyCreate,
    ApiKeyView,
    ApiKeyCreated,
    ApiKeysPage,
  ];
  for (const kind of kinds.all()) named.push(...kindSchemas(kind));
  const schemas: Json = {};
  for (const schema of named) {
    const id = (schema as { $id?: string }).$id!;
    if (id in schemas) throw new RangeError(`two schemas are named ${id}`);
    schemas[id] = plain(schema);
  }
  const responses = Object.fromEntries(
    Object.entries(PROBLEM_STATUSES).map(([status, description]) => [
      `Problem${status}`,
      {
        description,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      },
    ]),
  );
  return {
    schemas,
    responses,
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'an API key, `stratus_<id>_<secret><checksum>` (docs/auth.md)',
      },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same key' },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'retries with the same key get the first answer replayed; the same key with another request is a 422; kept 24 h',
        schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
      },
      IfMatch: {
        name: 'If-Match',
        in: 'header',
        required: false,
        description: 'the ETag (`"<resourceVersion>"`) the change applies to, or `*`; stale → 412',
        schema: { type: 'string' },
      },
    },
    headers: {
      ETag: { description: 'the resourceVersion, quoted', schema: { type: 'string' } },
      Location: { description: 'the operation: /v1/operations/{id}', schema: { type: 'string' } },
      Replayed: {
        description: '`true` on an Idempotency-Key replay',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  };
}

/** The OpenAPI 3.1 document of every route, for the kinds in `kinds`. */
export function openApiDocument(kinds: KindRegistry, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const kind of kinds.all()) Object.assign(paths, kindPaths(kind.name));
  Object.assign(paths, authPaths(), fixedPaths());
  withAuthAnswers(paths);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stratus',
      version,
      description:
        'The control plane of a small cloud. Every change is accepted with 202 and an operation to follow.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    security: [{ bearer: [] }, { apiKeyHeader: [] }],
    paths,
    components: components(kinds),
  };
}
