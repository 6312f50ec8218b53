import Type from 'typebox';
import { expect, it } from 'vitest';
import { defineKind, type KindDefinition } from './kind.js';
import { KindRegistry } from './registry.js';

const kind = (name: string, idPrefix: string) =>
  defineKind({
    name,
    idPrefix,
    spec: Type.Object({}),
    outputs: Type.Object({}),
    driver: () => ({
      observe: async () => ({ exists: false }),
      create: async () => ({}),
      update: async () => ({}),
      delete: async () => {},
    }),
  });

it('serves the kinds registered, in order', () => {
  const registry = new KindRegistry([kind('networks', 'net'), kind('instances', 'inst')]);
  expect(registry.all().map((k) => k.name)).toEqual(['networks', 'instances']);
  expect(registry.get('instances')?.idPrefix).toBe('inst');
  expect(registry.get('volumes')).toBeUndefined();
});

it('refuses a second kind of the same name or id prefix, and names or prefixes that cannot be URLs or ids', () => {
  const registry = new KindRegistry([kind('networks', 'net')]);
  expect(() => registry.register(kind('networks', 'nw'))).toThrow(/registered twice/);
  expect(() => registry.register(kind('nets', 'net'))).toThrow(/share the id prefix/);
  expect(() => registry.register(kind('Bad Name', 'bad'))).toThrow(/kind name/);
  expect(() => registry.register(kind('things', 'x_y'))).toThrow(/id prefix/);
  expect(registry.all()).toHaveLength(1);
});

it('refuses an action whose name cannot be a URL segment', () => {
  const registry = new KindRegistry();
  const withAction = (action: string): KindDefinition => ({
    ...(kind('things', 'thg') as KindDefinition),
    actions: { [action]: { description: 'x', apply: (spec) => ({ spec }) } },
  });
  expect(() => registry.register(withAction('Stop/now'))).toThrow(/action "Stop\/now"/);
  expect(() => registry.register(withAction(''))).toThrow(/action ""/);
  expect(registry.register(withAction('scale-up')).all()).toHaveLength(1);
});
