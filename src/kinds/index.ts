// The kinds Stratus serves. Adding a kind is a folder beside these and a line here.
import type { KindDefinition } from '../core/resources/kind.js';
import { KindRegistry } from '../core/resources/registry.js';
import { instances } from './instances/index.js';
import { networks } from './networks/index.js';
import { volumes } from './volumes/index.js';

/** Every built-in kind, referenced kinds first. */
export const builtinKinds: readonly KindDefinition[] = [networks, instances, volumes];

/** A registry of the built-in kinds. */
export function builtinRegistry(): KindRegistry {
  return new KindRegistry(builtinKinds);
}
