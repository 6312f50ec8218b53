// Request and answer schemas of /v1/tenants and /v1/api-keys: the routes validate requests
// with them and the OpenAPI document describes both from them.

import Type from 'typebox';
import { MAX_LIMIT } from '../resources/query.js';

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size, default 50' }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const KeyIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const TenantIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

const DateTime = Type.String({ format: 'date-time' });
const Role = Type.Union([Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')]);

export const TenantCreate = Type.Object(
  { id: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' }) },
  { $id: 'TenantCreate', additionalProperties: false },
);

export const TenantView = Type.Object({ id: Type.String(), createdAt: DateTime }, { $id: 'Tenant' });

export const TenantsPage = Type.Object(
  { items: Type.Array(TenantView), nextCursor: Type.Optional(Type.String()) },
  { $id: 'TenantsPage' },
);

export const ApiKeyCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Role,
    tenant: Type.Optional(
      Type.String({ description: 'operators only: a key of another tenant (default: your own)' }),
    ),
  },
  { $id: 'ApiKeyCreate', additionalProperties: false },
);

export const ApiKeyView = Type.Object(
  {
    id: Type.String({ description: 'the public part of the key, `stratus_<id>_…`' }),
    tenant: Type.String(),
    name: Type.String(),
    role: Role,
    createdAt: DateTime,
    lastUsedAt: Type.Union([DateTime, Type.Null()], { description: 'to within a minute' }),
    revokedAt: Type.Union([DateTime, Type.Null()]),
  },
  { $id: 'ApiKey' },
);

export const ApiKeyCreated = Type.Object(
  {
    ...ApiKeyView.properties,
    key: Type.String({ description: 'the key itself: shown in this answer only, never again' }),
  },
  { $id: 'ApiKeyCreated' },
);

export const ApiKeysPage = Type.Object(
  { items: Type.Array(ApiKeyView), nextCursor: Type.Optional(Type.String()) },
  { $id: 'ApiKeysPage' },
);
