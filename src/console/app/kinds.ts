// The kinds, read from the API's own OpenAPI document (`GET /openapi.json`): a kind is a
// `/v1/<kind>` path with a create body, its form is that body's schema. A kind added to the
// registry shows up here with nothing written for it.

import { useEffect, useState } from 'preact/hooks';

/** A JSON Schema node, as far as the form reads it. */
export interface JsonSchema {
  $ref?: string;
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  description?: string;
  default?: unknown;
}

/** An action of a kind: its name in the path and, when it takes one, its body's schema. */
export interface ActionInfo {
  readonly name: string;
  /** The body with every `$ref` resolved; absent for an action without a body. */
  readonly body?: JsonSchema;
}

/** One kind: its name in the path, its create body and its actions. */
export interface KindInfo {
  readonly name: string;
  /** The create body with every `$ref` resolved. */
  readonly create: JsonSchema;
  readonly actions: readonly ActionInfo[];
}

type Doc = {
  paths: Record<
    string,
    Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>
  >;
  components: { schemas: Record<string, JsonSchema> };
};

/** `schema` with every local `$ref` replaced by its target (the kinds' schemas have no cycles). */
function resolve(schema: JsonSchema, doc: Doc, depth = 0): JsonSchema {
  if (depth > 20) return {};
  if (schema.$ref) {
    const target = doc.components.schemas[schema.$ref.split('/').at(-1)!];
    return target ? resolve(target, doc, depth + 1) : {};
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties)
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, resolve(v, doc, depth + 1)]),
    );
  if (schema.items) out.items = resolve(schema.items, doc, depth + 1);
  if (schema.anyOf) out.anyOf = schema.anyOf.map((s) => resolve(s, doc, depth + 1));
  return out;
}

/** The kinds of a document, in its order. */
export function kindsOf(doc: Doc): KindInfo[] {
  const kinds: KindInfo[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const m = /^\/v1\/([a-z][a-z0-9-]*)$/.exec(path);
    const body = item.post?.requestBody?.content?.['application/json']?.schema;
    if (!m || !body || !item.get || !doc.paths[`${path}/{id}`]) continue;
    const name = m[1]!;
    const actions = Object.keys(doc.paths).flatMap((p): ActionInfo[] => {
      const action = new RegExp(`^/v1/${name}/\\{id\\}/([a-z-]+)$`).exec(p)?.[1];
      if (action === undefined) return [];
      const schema = doc.paths[p]?.post?.requestBody?.content?.['application/json']?.schema;
      return [{ name: action, ...(schema ? { body: resolve(schema, doc) } : {}) }];
    });
    const create = resolve(body, doc);
    // Tenants and API keys have create bodies too; a kind's has a spec.
    if (!create.properties?.spec) continue;
    kinds.push({ name, create, actions });
  }
  return kinds;
}

let loaded: Promise<KindInfo[]> | undefined;

/** The kinds, read once per page load. */
export function useKinds(): KindInfo[] | undefined {
  const [kinds, setKinds] = useState<KindInfo[] | undefined>(undefined);
  useEffect(() => {
    loaded ??= fetch('/openapi.json')
      .then((r) => r.json() as Promise<Doc>)
      .then(kindsOf);
    void loaded.then(setKinds);
  }, []);
  return kinds;
}
