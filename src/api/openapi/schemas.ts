// The answer schemas of the `/v1` API that no route validates (they describe what the API
// sends): the resource envelope around a kind's spec and outputs, operations, problems. The
// kind's own schemas are used as they are, never copied.

import Type, { type TSchema } from 'typebox';
import { bodySchema, Labels, NAME_PATTERN } from '../../control/validation.js';
import type { KindDefinition } from '../../core/resources/kind.js';
import { actionNames, kindNames } from './names.js';

/** A reference to a named component. */
export function ref(name: string): TSchema {
  return Type.Unsafe({ $ref: `#/components/schemas/${name}` });
}

const DateTime = Type.String({ format: 'date-time' });

export const Condition = Type.Object(
  {
    type: Type.String({ description: '`Ready` on every kind' }),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
    reason: Type.String({ description: 'one CamelCase word a program can switch on' }),
    message: Type.String({ description: "for a human; on failure, the backend's own words" }),
    lastTransitionTime: DateTime,
    observedGeneration: Type.Integer({ minimum: 0 }),
  },
  { $id: 'Condition' },
);

export const Phase = Type.Union(
  [Type.Literal('Provisioning'), Type.Literal('Ready'), Type.Literal('Failed'), Type.Literal('Deleting')],
  { $id: 'Phase' },
);

export const Operation = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    resourceId: Type.String(),
    verb: Type.Union([
      Type.Literal('create'),
      Type.Literal('update'),
      Type.Literal('delete'),
      Type.Literal('action'),
    ]),
    action: Type.Union([Type.String(), Type.Null()], { description: 'the action, when verb is action' }),
    generation: Type.Integer({ minimum: 1 }),
    state: Type.Union([
      Type.Literal('pending'),
      Type.Literal('running'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
      Type.Literal('superseded'),
    ]),
    error: Type.Union([Type.Object({ reason: Type.String(), message: Type.String() }), Type.Null()]),
    createdAt: DateTime,
    updatedAt: DateTime,
    finishedAt: Type.Union([DateTime, Type.Null()]),
  },
  { $id: 'Operation' },
);

/** An operation with the resource as it is now (null once deleted). */
export const OperationView = Type.Intersect(
  [ref('Operation'), Type.Object({ resource: Type.Union([ref('Resource'), Type.Null()]) })],
  { $id: 'OperationView' },
);

export const Problem = Type.Object(
  {
    type: Type.String({ description: '`urn:stratus:problem:<code>`' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    code: Type.String({ description: 'stable, e.g. `VALIDATION_FAILED`' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({
            description: 'JSON Pointer: `/spec/cidr`, `/querystring/limit`, `/headers/if-match`',
          }),
          message: Type.String(),
        }),
      ),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

/** The envelope of a resource whose spec and outputs are `spec` and `outputs`. */
function envelope(kind: string | undefined, spec: TSchema, outputs: TSchema, $id: string): TSchema {
  return Type.Object(
    {
      id: Type.String(),
      kind: kind === undefined ? Type.String() : Type.Literal(kind),
      tenant: Type.String(),
      name: Type.String({ pattern: NAME_PATTERN }),
      labels: Labels,
      spec,
      status: Type.Object({
        phase: ref('Phase'),
        conditions: Type.Array(ref('Condition')),
        observedGeneration: Type.Integer({ minimum: 0 }),
        outputs: Type.Optional(outputs),
      }),
      generation: Type.Integer({ minimum: 1 }),
      resourceVersion: Type.String({ description: 'the ETag; `If-Match` compares it' }),
      createdAt: DateTime,
      updatedAt: DateTime,
      deletionRequestedAt: Type.Union([DateTime, Type.Null()]),
      owner: Type.Optional(
        Type.String({ description: 'the id of the resource owning this one (a child); absent otherwise' }),
      ),
    },
    { $id },
  );
}

/** A resource of any kind. */
export const Resource = envelope(undefined, Type.Object({}), Type.Object({}), 'Resource');

/** The body a create is validated with, its spec named instead of inlined. */
function createBody(kind: KindDefinition, $id: string, spec: TSchema): TSchema {
  const body = bodySchema(kind);
  return { ...body, $id, properties: { ...body.properties, spec } };
}

/** The named schemas of one kind: `Network`, `NetworkSpec`, `NetworkOutputs`, `NetworkCreate`, … */
export function kindSchemas(kind: KindDefinition): TSchema[] {
  const { one, many } = kindNames(kind.name);
  return [
    { ...kind.spec, $id: `${one}Spec` },
    { ...kind.outputs, $id: `${one}Outputs` },
    envelope(kind.name, ref(`${one}Spec`), ref(`${one}Outputs`), one),
    createBody(kind, `${one}Create`, ref(`${one}Spec`)),
    Type.Object(
      {
        labels: Type.Optional(
          Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
            description: 'null removes a label',
          }),
        ),
        spec: Type.Optional(
          Type.Object(
            {},
            { description: `a JSON merge patch (RFC 7396) of ${one}Spec; null removes a field` },
          ),
        ),
      },
      { $id: `${one}Patch`, additionalProperties: false },
    ),
    Type.Object(
      { items: Type.Array(ref(one)), nextCursor: Type.Optional(Type.String()) },
      { $id: `${many}Page` },
    ),
    Type.Object({ resource: ref(one), operation: ref('Operation') }, { $id: `${one}Accepted` }),
    Type.Object(
      { resource: ref(one), operation: Type.Union([ref('Operation'), Type.Null()]) },
      { $id: `${one}Patched`, description: 'operation is null when only labels changed' },
    ),
    ...Object.entries(kind.actions ?? {}).flatMap(([action, definition]) =>
      definition.body ? [{ ...definition.body, $id: actionNames(kind.name, action).body }] : [],
    ),
  ];
}

/** One write of a resource, as `GET /v1/events` lists it and `GET /v1/watch` streams it. */
export const Event = Type.Object(
  {
    id: Type.Integer({
      minimum: 1,
      description: 'grows with every event: the cursor (`since`, `Last-Event-ID`)',
    }),
    time: DateTime,
    tenant: Type.String(),
    kind: Type.String(),
    resourceId: Type.String(),
    name: Type.String(),
    type: Type.Union([
      Type.Literal('Created'),
      Type.Literal('SpecChanged'),
      Type.Literal('LabelsChanged'),
      Type.Literal('StatusChanged'),
      Type.Literal('DeletionRequested'),
      Type.Literal('Deleted'),
    ]),
    generation: Type.Integer({ minimum: 1 }),
    resourceVersion: Type.String(),
    phase: Type.Union([ref('Phase'), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()], { description: "the Ready condition's reason" }),
    message: Type.Union([Type.String(), Type.Null()], { description: "the Ready condition's message" }),
    resource: Type.Unsafe({
      $ref: '#/components/schemas/Resource',
      description: 'the resource after the write (as it was, for Deleted)',
    }),
  },
  { $id: 'Event' },
);

/** A page of events. */
export const EventsPage = Type.Object(
  {
    items: Type.Array(ref('Event')),
    nextSince: Type.Integer({
      minimum: 0,
      description:
        'the `since` of the next page: the last id, or the horizon read up to when the page is not full',
    }),
    more: Type.Boolean({ description: 'the page was full: more events may follow at once' }),
  },
  { $id: 'EventsPage' },
);
