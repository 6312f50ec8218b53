import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { IdParams, ListQuery, WaitQuery } from './resources/schemas.js';
import { validatorCompiler } from './validator.js';

type Result = { value?: unknown; error?: unknown };

function both(schema: TSchema, httpPart: string) {
  const route = { schema, httpPart, method: 'GET', url: '/x' };
  return {
    ours: validatorCompiler(route) as (v: unknown) => Result,
    typebox: TypeBoxValidatorCompiler(route) as (v: unknown) => Result,
  };
}

/** Errors as plain data: TypeBox may hand back an iterable. */
const plain = (r: Result) => ({
  value: r.value,
  error: r.error && JSON.parse(JSON.stringify([...(r.error as Iterable<unknown>)])),
});

describe('validatorCompiler', () => {
  const cases: Array<[string, TSchema, string, unknown]> = [
    ['an id', IdParams, 'params', { id: 'inst_01m8tqja3v8vqww0c3ktvysw80' }],
    ['too long an id', IdParams, 'params', { id: 'x'.repeat(65) }],
    ['no wait', WaitQuery, 'querystring', {}],
    ['a wait', WaitQuery, 'querystring', { wait: '5s' }],
    ['a wait sent twice', WaitQuery, 'querystring', { wait: ['5s', '6s'] }],
    ['an unknown parameter', WaitQuery, 'querystring', { wait: '5s', other: 'x' }],
    ['a limit to convert', ListQuery, 'querystring', { limit: '5' }],
    ['a limit that is no number', ListQuery, 'querystring', { limit: 'five' }],
  ];
  // A compiler that skipped the conversion without falling back would answer '5' to the limit.
  it.each(cases)('answers %s as TypeBox does', (_name, schema, part, value) => {
    const { ours, typebox } = both(schema, part);
    expect(plain(ours(structuredClone(value)))).toEqual(plain(typebox(structuredClone(value))));
  });
});
