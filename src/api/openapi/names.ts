// Names in the OpenAPI document, derived from a kind's name so a new kind needs none of its own:
// `networks` → `Network`, `listNetworks`, `createNetwork`; `load-balancers` → `LoadBalancer`.

/** `load-balancers` → `LoadBalancers`. */
function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The singular of an English plural as kinds are named: `instances`, `addresses`, `policies`. */
function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s')) return word.slice(0, -1);
  return word;
}

/** Names of one kind in the document. */
export interface KindNames {
  /** Schema name of one resource: `Network`. */
  readonly one: string;
  /** Plural, for the list operation: `Networks`. */
  readonly many: string;
}

/** The names of kind `name`. */
export function kindNames(name: string): KindNames {
  const many = pascal(name);
  const parts = name.split('-');
  const one = pascal([...parts.slice(0, -1), singular(parts.at(-1)!)].join('-'));
  return { one, many };
}

/** Names of one action of a kind: `stopInstance`, and `InstanceResizeBody` for its body. */
export function actionNames(kindName: string, action: string): { operationId: string; body: string } {
  const { one } = kindNames(kindName);
  const verb = pascal(action);
  return { operationId: `${verb.charAt(0).toLowerCase()}${verb.slice(1)}${one}`, body: `${one}${verb}Body` };
}
