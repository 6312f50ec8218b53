import type { FieldError } from '../core/resources/field-error.js';
import { type KindDefinition, referenceValues } from '../core/resources/kind.js';
import type { KindRegistry } from '../core/resources/registry.js';
import type { Queryable } from '../ha/db/database.js';
import { ValidationError } from './errors.js';
import { lockReference } from './store.js';

/**
 * Resolves the reference fields of a spec inside the writing transaction: each must name a
 * resource of the right kind in the same tenant that is not being deleted. A missing id and
 * another tenant's id get the same answer, so ids of other tenants cannot be probed. Each
 * target stays share-locked until the write commits (see lock-reference.sql). An array
 * reference is checked item by item, each error naming its index (`/spec/targets/2/instance`).
 * Returns the referenced ids, each once.
 */
export async function resolveReferences(
  tx: Queryable,
  registry: KindRegistry,
  kind: KindDefinition,
  tenant: string,
  spec: Record<string, unknown>,
): Promise<string[]> {
  const ids = new Set<string>();
  const errors: FieldError[] = [];
  for (const { path, value, definition: ref } of referenceValues(kind, spec)) {
    const target = registry.get(ref.kind);
    if (typeof value !== 'string' || !target || !value.startsWith(`${target.idPrefix}_`)) {
      errors.push({ path, message: `must be the id of one of your ${ref.kind}` });
      continue;
    }
    const found = await lockReference(tx, tenant, value);
    if (!found || found.kind !== ref.kind)
      errors.push({ path, message: `no ${ref.kind} ${value} in this tenant` });
    else if (found.deleting) errors.push({ path, message: `${ref.kind} ${value} is being deleted` });
    else ids.add(value);
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return [...ids];
}

/** The ids a stored spec references (what a delete request keeps in ref_ids). */
export function referencedIds(kind: KindDefinition, spec: unknown): string[] {
  const ids = referenceValues(kind, spec)
    .map((r) => r.value)
    .filter((v): v is string => typeof v === 'string');
  return [...new Set(ids)];
}
