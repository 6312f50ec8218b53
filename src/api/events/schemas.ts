// The request schemas of `GET /v1/events` and `GET /v1/watch`: the routes validate with them and
// the OpenAPI document describes them.

import Type from 'typebox';
import { MAX_LIMIT } from '../resources/query.js';

const filters = {
  kind: Type.Optional(Type.String({ maxLength: 64, description: 'only events of this kind' })),
  resource: Type.Optional(Type.String({ maxLength: 64, description: 'only events of this resource id' })),
};

const Since = Type.Integer({
  minimum: 0,
  description: 'only events after this event id; older than the retained events → 410',
});

/** The query string of a listing of events. */
export const EventsQuery = Type.Object(
  {
    ...filters,
    since: Type.Optional(Since),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size, default 50' }),
    ),
    latest: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LIMIT,
        description:
          'the newest this many events instead of a page after `since` (not with `since` or `limit`); `nextSince` is where a watch goes on from',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The query string of the watch stream. */
export const WatchQuery = Type.Object(
  {
    ...filters,
    since: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'start after this event id (the Last-Event-ID header wins); absent: from now on',
      }),
    ),
  },
  { additionalProperties: false },
);
