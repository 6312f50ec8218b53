// The help of the client commands, written from the kind registry: every kind's verbs, actions
// and spec fields appear here without a line of CLI code per kind.

import type { KindDefinition } from '../../core/resources/kind.js';
import type { KindRegistry } from '../../core/resources/registry.js';
import type { SchemaNode } from './schema.js';
import { SYSTEM_VIEWS } from './system.js';

const COMMON = `Connection (flags win over the environment, which wins over the profile):
  --url URL            STRATUS_URL        the API's base URL
  --api-key KEY        STRATUS_API_KEY    the API key
  --profile NAME       STRATUS_PROFILE    a profile saved by stratus login (default: the last one saved)
Output:
  -o, --output FORMAT  table (default), json, yaml or name (kind/name, one a line)
Changes:
  --wait               follow the operation to its end (a live line on a terminal, plain lines otherwise)
  --timeout DURATION   how long --wait waits (default 5m; then exit 6)
  --idempotency-key K  the change's Idempotency-Key (default: a new one per command, reused by its retries)

Exit status: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict (409, 412), 5 auth (401, 403),
6 timed out waiting.
`;

/** `stratus <kind> --help`. */
export function kindHelp(kind: KindDefinition): string {
  const spec = kind.spec as SchemaNode;
  const required = new Set(spec.required ?? []);
  const fields = Object.entries(spec.properties ?? {}).map(([name, node]) =>
    `  ${(name + (required.has(name) ? '' : '?')).padEnd(18)} ${(node as { description?: string }).description ?? ''}`.trimEnd(),
  );
  const actions = Object.entries(kind.actions ?? {}).map(([name, a]) => {
    const body = Object.keys((a.body as SchemaNode | undefined)?.properties ?? {});
    return `  stratus ${kind.name} ${name} NAME|ID${body.map((b) => ` --set ${b}=…`).join('')}\n      ${a.description}`;
  });
  const refs = (kind.references ?? []).map((r) => `${r.field} → ${r.kind}`).join(', ');
  return `Usage:
  stratus ${kind.name} list [-l key=value,…] [--limit N]
  stratus ${kind.name} get NAME|ID [--wait]
  stratus ${kind.name} create NAME [--file FILE] [--set field=value]… [--label key=value]… [--wait]
  stratus ${kind.name} update NAME|ID [--file FILE] [--set field=value]… [--label key=value]… [--wait]
  stratus ${kind.name} delete NAME|ID [--cascade] [--wait]
${actions.join('\n')}${actions.length > 0 ? '\n' : ''}
NAME|ID: a resource's name or its id (${kind.idPrefix}_…). --file takes YAML or JSON of
{ name, labels, spec } (- for stdin); --set writes one spec field (dots for nested fields,
JSON for objects and arrays) after the file's; reference fields take a name or an id.

Spec fields (? optional)${refs ? `; references: ${refs}` : ''}:
${fields.join('\n')}

${COMMON}`;
}

/** `stratus help` of the client commands, appended to the server's. */
export function clientHelp(kinds: KindRegistry): string {
  return `Client commands (talk to a running server):
  stratus <kind> list|get|create|update|delete|<action> …   kinds: ${kinds
    .all()
    .map((k) => k.name)
    .join(', ')}
                               (stratus <kind> --help for its verbs, actions and fields)
  stratus operations get|wait ID
  stratus events [--kind KIND] [--resource NAME|ID] [--since ID] [--limit N] [--follow]
  stratus system ${Object.keys(SYSTEM_VIEWS).join('|')} [--limit N]
  stratus system dead-letters redrive JOB-KEY [--wait]
  stratus login --url URL --api-key KEY [--profile NAME]
  stratus completion bash|zsh

${COMMON}`;
}
