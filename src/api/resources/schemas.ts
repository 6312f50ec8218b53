// The request schemas of the `/v1` routes (params and query strings). The routes validate with
// them and the OpenAPI document describes them, so the two cannot drift apart.

import Type from 'typebox';
import { MAX_LIMIT } from './query.js';

/** `:id` of a resource or an operation. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** `?wait=`: how long to hold the answer (`500ms`, `5s`, `1m`, at most 50 s). */
export const WaitQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.String({
        maxLength: 16,
        description: 'hold the answer until settled or this long: 500ms, 5s, 1m (at most 50 s)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The query string of a listing. */
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size, default 50' }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
    labelSelector: Type.Optional(
      Type.String({ maxLength: 2000, description: 'key=value,key2=value2: all must match' }),
    ),
    owner: Type.Optional(
      Type.String({ maxLength: 64, description: 'only the children of this resource (its id)' }),
    ),
  },
  { additionalProperties: false },
);

/** The query string of a delete. */
export const DeleteQuery = Type.Object(
  {
    cascade: Type.Optional(
      Type.Boolean({
        description: 'delete the resources referencing this one first (recursively) instead of a 409',
      }),
    ),
  },
  { additionalProperties: false },
);
