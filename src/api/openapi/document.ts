// The OpenAPI 3.1 document of the API, built from the kind registry and the schemas the routes
// validate with: a kind in the registry is in the document, with nothing written for it.

import type { TObject, TSchema } from 'typebox';
import type { KindDefinition } from '../../core/resources/kind.js';
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
import { EventsQuery, WatchQuery } from '../events/schemas.js';
import { DeleteQuery, IdParams, ListQuery, WaitQuery } from '../resources/schemas.js';
import {
  DeadLetterParams,
  DeadLettersQuery,
  DrillReportParams,
  LeadersQuery,
  systemSchemas,
} from '../system/schemas.js';
import { BillingQuery, UsageQuery, usageSchemas } from '../usage/schemas.js';
import { actionNames, kindNames } from './names.js';
import {
  Condition,
  Event,
  EventsPage,
  kindSchemas,
  Operation,
  OperationView,
  Phase,
  Problem,
  Resource,
} from './schemas.js';

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
  404: 'no such resource (or another tenant’s), no such job',
  410: 'the events after the cursor are no longer kept: list again',
  409: 'a name clash, a clash with another resource (overlapping ranges), referrers, a resource being deleted, an action refused, an Idempotency-Key in flight, a job not dead-lettered',
  412: 'If-Match is stale',
  413: 'body over 1 MiB',
  415: 'not JSON',
  422: 'a field fails validation, or an Idempotency-Key reused with another request',
  500: 'the request could not be served; it is safe to retry',
};

/** Operations of one kind, keyed by path then method. */
function kindPaths(kind: KindDefinition): Record<string, Json> {
  const kindName = kind.name;
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
        parameters: [...parameters(DeleteQuery, 'query'), ...mutation, param('IfMatch')],
        responses: { 202: accepted(`${one}Accepted`), ...problems(400, 404, 409, 412, 422, 500) },
      },
    },
    ...Object.fromEntries(
      Object.entries(kind.actions ?? {}).map(([action, definition]) => {
        const names = actionNames(kindName, action);
        return [
          `/v1/${kindName}/{id}/${action}`,
          {
            parameters: parameters(IdParams, 'path'),
            post: {
              operationId: names.operationId,
              tags,
              summary: definition.description,
              parameters: [...mutation, param('IfMatch')],
              ...(definition.body ? { requestBody: { required: true, content: json(names.body) } } : {}),
              responses: {
                200: {
                  description: 'already in effect: no new generation, no operation',
                  headers: { ETag: header('ETag') },
                  content: json(`${one}Patched`),
                },
                202: accepted(`${one}Patched`),
                ...problems(400, 404, 409, 412, 413, 415, 422, 500),
              },
            },
          },
        ];
      }),
    ),
  };
}

/** `/v1/system`: operators only (403 for anyone else once the admin guard is in place). */
function systemPaths(): Record<string, Json> {
  const tags = ['system'];
  const read = (operationId: string, summary: string, answer: string, query?: TObject): Json => ({
    get: {
      operationId,
      tags,
      summary,
      ...(query ? { parameters: parameters(query, 'query') } : {}),
      responses: {
        200: { description: summary, content: json(answer) },
        ...problems(...(query ? [400, 500] : [500])),
      },
    },
  });
  return {
    '/v1/system/replicas': read(
      'listReplicas',
      'The node registry: every replica, its role, version, last heartbeat and state',
      'ReplicaList',
    ),
    '/v1/system/leaders': read(
      'listLeaders',
      'The holder and epoch of every leadership key, and the recent terms of the journal',
      'LeaderList',
      LeadersQuery,
    ),
    '/v1/system/queues': read(
      'listQueues',
      'Depth, in-flight, delayed and dead-lettered counts of the job queue, the outbox and the ledger',
      'QueueList',
    ),
    '/v1/system/breakers': read(
      'listBreakers',
      'The breaker of every backend port on every replica that is not gone, as each last published it',
      'BreakerList',
    ),
    '/v1/system/controllers': read(
      'listControllers',
      'Every singleton controller: its leader and epoch, its last pass, lag and errors, as the leader last reported',
      'ControllerList',
    ),
    '/v1/system/dead-letters': read(
      'listDeadLetters',
      'Jobs failed for good, by job key, with their resource and operation for reconcile jobs',
      'DeadLetterPage',
      DeadLettersQuery,
    ),
    '/v1/system/drill-reports': read(
      'listDrillReports',
      'The drill reports of --drill-reports-dir, newest first: each run directory with a report.json (404 when no directory is set)',
      'DrillReportList',
    ),
    '/v1/system/drill-reports/{name}': {
      parameters: parameters(DrillReportParams, 'path'),
      get: {
        operationId: 'getDrillReport',
        tags,
        summary: 'report.json of one drill run',
        responses: {
          200: { description: 'the report', content: json('DrillReport') },
          ...problems(400, 404, 500),
        },
      },
    },
    '/v1/system/drill-reports/{name}/timeline.svg': {
      parameters: parameters(DrillReportParams, 'path'),
      get: {
        operationId: 'getDrillTimeline',
        tags,
        summary: 'timeline.svg of one drill run: requests, failures and faults per second',
        responses: {
          200: { description: 'the timeline', content: { 'image/svg+xml': { schema: { type: 'string' } } } },
          ...problems(400, 404, 500),
        },
      },
    },
    '/v1/system/dead-letters/{key}/redrive': {
      parameters: parameters(DeadLetterParams, 'path'),
      post: {
        operationId: 'redriveDeadLetter',
        tags,
        summary:
          'Run a dead-lettered job again with fresh attempts (a reconcile job reopens its operation); once per dead letter',
        parameters: [param('IdempotencyKey')],
        responses: {
          202: {
            description: 'redriven: the job is back in the outbox',
            headers: { Location: header('Location'), 'Idempotent-Replayed': header('Replayed') },
            content: json('RedriveAccepted'),
          },
          ...problems(400, 404, 409, 422, 500),
        },
      },
    },
  };
}

/** `/v1/usage` and `/v1/billing/summary`: the tenant's recorded minutes, any role. */
function usagePaths(): Record<string, Json> {
  const tags = ['usage'];
  return {
    '/v1/usage': {
      get: {
        operationId: 'listUsage',
        tags,
        summary: "The tenant's recorded minutes (one per resource and minute), by minute then resource",
        parameters: parameters(UsageQuery, 'query'),
        responses: {
          200: { description: 'one page', content: json('UsagePage') },
          ...problems(400, 500),
        },
      },
    },
    '/v1/billing/summary': {
      get: {
        operationId: 'getBillingSummary',
        tags,
        summary: "The tenant's minutes and charges over a period, per kind and size, with the totals",
        parameters: parameters(BillingQuery, 'query'),
        responses: {
          200: { description: 'the summary', content: json('BillingSummary') },
          ...problems(400, 500),
        },
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
    '/v1/events': {
      get: {
        operationId: 'listEvents',
        tags: ['events'],
        summary: "The tenant's events (every write of a resource), oldest first",
        parameters: parameters(EventsQuery, 'query'),
        responses: {
          200: { description: 'one page', content: json('EventsPage') },
          ...problems(400, 410, 500),
        },
      },
    },
    '/v1/watch': {
      get: {
        operationId: 'watchEvents',
        tags: ['events'],
        summary: "The tenant's events as Server-Sent Events, live",
        description:
          'Each event is a frame `id: <event id>`, `event: <type>`, `data: <Event as JSON>`; comments ' +
          'every 15 s keep the stream open; a last frame `event: end` with `{ reason, message }` says ' +
          'why the server ended it (ServerClosing, SlowConsumer, Gone, ReadFailed). Reconnect with ' +
          'the `Last-Event-ID` header to resume.',
        parameters: [
          ...parameters(WatchQuery, 'query'),
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'resume after this event id (wins over `since`)',
            schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
          },
        ],
        responses: {
          200: {
            description: 'the stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...problems(400, 410, 500),
        },
      },
    },
    '/v1/instance-types': {
      get: {
        operationId: 'listInstanceTypes',
        tags: ['instances'],
        summary: 'The instance types an instance size may be, with their price',
        responses: {
          200: {
            description: 'the catalogue',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: {
                    items: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['name', 'vcpus', 'memoryMiB', 'pricePerHour'],
                        properties: {
                          name: { type: 'string' },
                          vcpus: { type: 'integer' },
                          memoryMiB: { type: 'integer' },
                          pricePerHour: { type: 'number', description: 'US dollars' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
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

function components(kinds: KindRegistry, system: boolean): Json {
  const named: TSchema[] = [
    Condition,
    Phase,
    Operation,
    OperationView,
    Problem,
    Resource,
    Event,
    EventsPage,
    TenantCreate,
    TenantView,
    TenantsPage,
    ApiKeyCreate,
    ApiKeyView,
    ApiKeyCreated,
    ApiKeysPage,
  ];
  for (const kind of kinds.all()) named.push(...kindSchemas(kind));
  named.push(...usageSchemas);
  if (system) named.push(...systemSchemas);
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

/** The OpenAPI 3.1 document of every route, for the kinds in `kinds`, with `/v1/system` when served. */
export function openApiDocument(
  kinds: KindRegistry,
  version: string,
  parts: { system?: boolean } = {},
): Json {
  const paths: Record<string, Json> = {};
  for (const kind of kinds.all()) Object.assign(paths, kindPaths(kind));
  Object.assign(paths, authPaths(), fixedPaths(), usagePaths());
  if (parts.system) Object.assign(paths, systemPaths());
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
    components: components(kinds, parts.system === true),
  };
}
