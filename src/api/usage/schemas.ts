// The schemas of `GET /v1/usage` and `GET /v1/billing/summary`: the query strings the routes
// validate with and the answers they send, named as OpenAPI components.
import Type, { type Static } from 'typebox';
import { MAX_LIMIT } from '../resources/query.js';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const UsageQuery = Type.Object(
  {
    resource: Type.Optional(Type.String({ maxLength: 64, description: 'only minutes of this resource id' })),
    kind: Type.Optional(
      Type.String({ maxLength: 64, description: 'only minutes of resources of this kind' }),
    ),
    from: Type.Optional(
      Type.String({ maxLength: 64, description: 'only minutes starting at or after this time (RFC 3339)' }),
    ),
    to: Type.Optional(
      Type.String({ maxLength: 64, description: 'only minutes starting before this time (RFC 3339)' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size, default 50' }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page' })),
  },
  { additionalProperties: false },
);

export const BillingQuery = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'start of the period (RFC 3339), default the start of this month (UTC)',
      }),
    ),
    to: Type.Optional(
      Type.String({ maxLength: 64, description: 'end of the period, excluded (RFC 3339), default now' }),
    ),
  },
  { additionalProperties: false },
);

export const UsageMinute = Type.Object(
  {
    resourceId: Type.String(),
    kind: Type.String(),
    size: Nullable(Type.String({ description: "an instance's size; null for kinds without one" })),
    minute: DateTime,
    minuteMs: Type.Integer({ minimum: 1, description: 'the length of the minute as recorded (60000)' }),
    price: Type.Number({ minimum: 0, description: 'US dollars for this minute' }),
  },
  { $id: 'UsageMinute' },
);

export const UsagePage = Type.Object(
  {
    items: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/UsageMinute' })),
    nextCursor: Type.Optional(Type.String()),
  },
  { $id: 'UsagePage' },
);

const Totals = {
  minutes: Type.Integer({ minimum: 0 }),
  amount: Type.Number({ minimum: 0, description: 'US dollars' }),
};

export const BillingSummary = Type.Object(
  {
    from: DateTime,
    to: DateTime,
    items: Type.Array(Type.Object({ kind: Type.String(), size: Nullable(Type.String()), ...Totals })),
    total: Type.Object(Totals),
  },
  { $id: 'BillingSummary' },
);

export type UsageMinuteT = Static<typeof UsageMinute>;
export type BillingSummaryT = Static<typeof BillingSummary>;

/** The named answers, for the OpenAPI components. */
export const usageSchemas = [UsageMinute, UsagePage, BillingSummary];
