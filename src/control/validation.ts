// Validation of a resource body against its kind: one compiled TypeBox schema per kind, errors
// as JSON Pointers into the body, then the kind's own checks. The API hands bodies here as
// they came, so every transport gets the same answers.

import Type, { type TObject } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { FieldError } from '../core/resources/field-error.js';
import type { KindDefinition } from '../core/resources/kind.js';
import { ValidationError } from './errors.js';

/** A DNS label: names end up in backend names and host names. */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

/** Label keys and values as Kubernetes allows them, shortened. */
export const Labels = Type.Record(
  Type.String({ pattern: '^[a-zA-Z0-9]([-a-zA-Z0-9_./]{0,62})$' }),
  Type.String({ maxLength: 63, pattern: '^[-a-zA-Z0-9_.]*$' }),
  { maxProperties: 64 },
);

/** The body of a create, and the result of a PATCH applied to the stored resource. */
export function bodySchema(kind: KindDefinition): TObject {
  return Type.Object(
    {
      name: Type.String({ pattern: NAME_PATTERN }),
      labels: Type.Optional(Labels),
      spec: kind.spec,
    },
    { additionalProperties: false },
  );
}

/** A validated body. */
export interface ResourceBody {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly spec: Record<string, unknown>;
}

const validators = new WeakMap<KindDefinition, Validator>();

function validatorOf(kind: KindDefinition): Validator {
  let validator = validators.get(kind);
  if (!validator) {
    validator = Compile(bodySchema(kind));
    validators.set(kind, validator);
  }
  return validator;
}

/** Checks a body; throws a {@link ValidationError} naming every failing field. */
export function validateBody(kind: KindDefinition, body: unknown): ResourceBody {
  const nul = findNul(body, '');
  // PostgreSQL's jsonb cannot hold U+0000: refuse it here as the client's mistake.
  if (nul !== undefined) throw new ValidationError([{ path: nul, message: 'must not contain U+0000' }]);
  const validator = validatorOf(kind);
  if (!validator.Check(body)) throw new ValidationError(schemaErrors(validator, body));
  const valid = body as { name: string; labels?: Record<string, string>; spec: Record<string, unknown> };
  const own = kind.validate?.(valid.spec) ?? [];
  if (own.length > 0) throw new ValidationError(own);
  return { name: valid.name, labels: valid.labels ?? {}, spec: valid.spec };
}

const bodyValidators = new WeakMap<TObject, Validator>();

/**
 * Checks an action's body against its schema (an absent body is `{}`); throws a
 * {@link ValidationError} naming every failing field, paths relative to the body.
 */
export function validateActionBody(schema: TObject | undefined, body: unknown): Record<string, unknown> {
  const value = body ?? {};
  const nul = findNul(value, '');
  if (nul !== undefined) throw new ValidationError([{ path: nul, message: 'must not contain U+0000' }]);
  const effective = schema ?? NO_BODY;
  let validator = bodyValidators.get(effective);
  if (!validator) {
    validator = Compile(effective);
    bodyValidators.set(effective, validator);
  }
  if (!validator.Check(value)) throw new ValidationError(schemaErrors(validator, value));
  return value as Record<string, unknown>;
}

/** The body of an action that takes none. */
const NO_BODY = Type.Object({}, { additionalProperties: false });

function schemaErrors(validator: Validator, body: unknown): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of validator.Errors(body)) {
    // An unknown property is reported twice: as "schema is false" on the property and as
    // additionalProperties on its parent; keep the second, which says it plainly.
    if (e.keyword === 'boolean') continue;
    const entries: FieldError[] =
      e.keyword === 'additionalProperties'
        ? ((e.params as { additionalProperties?: string[] }).additionalProperties ?? []).map((p) => ({
            path: `${e.instancePath}/${escapePointer(p)}`,
            message: 'unknown field',
          }))
        : e.keyword === 'required'
          ? ((e.params as { requiredProperties?: string[] }).requiredProperties ?? []).map((p) => ({
              path: `${e.instancePath}/${escapePointer(p)}`,
              message: 'is required',
            }))
          : [{ path: e.instancePath, message: e.message }];
    for (const entry of entries) {
      const key = `${entry.path}\n${entry.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(entry);
      }
    }
  }
  return out.length > 0 ? out : [{ path: '', message: 'is not valid' }];
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The JSON Pointer of the first string (value or key) holding U+0000, if any. */
export function findNul(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const here = `${path}/${escapePointer(key)}`;
      if (key.includes('\u0000')) return here;
      const found = findNul(child, here);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
