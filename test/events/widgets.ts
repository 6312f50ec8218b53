// A toy kind for the event tests: a mutable spec, a backend that is a Map, so that every kind of
// write (create, spec, labels, status, delete request, removal) happens through the real paths.

import Type from 'typebox';
import { defineKind, type KindDefinition } from '../../src/core/resources/kind.js';

/** The toy kind, over its own in-memory backend. */
export function widgetKind(): KindDefinition {
  const made = new Map<string, string>();
  return defineKind({
    name: 'widgets',
    idPrefix: 'wid',
    spec: Type.Object({ size: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false }),
    outputs: Type.Object({ size: Type.Integer() }),
    driver: () => ({
      async observe(r) {
        const size = made.get(r.id);
        return size === undefined
          ? { exists: false }
          : { exists: true, upToDate: size === String(r.spec.size), outputs: { size: Number(size) } };
      },
      async create(r) {
        made.set(r.id, String(r.spec.size));
        return { size: r.spec.size };
      },
      async update(r) {
        made.set(r.id, String(r.spec.size));
        return { size: r.spec.size };
      },
      async delete(r) {
        made.delete(r.id);
      },
    }),
  });
}
