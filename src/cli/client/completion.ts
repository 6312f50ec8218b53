// `stratus completion bash|zsh` prints a script that asks `stratus __complete WORDS…` for the
// candidates of the word being typed. The candidates come from the kind registry (commands,
// verbs, actions, flags, spec fields for --set), so completion works offline and knows a new
// kind as soon as it is registered; resource names are asked of the server when one is
// configured, and silently left out when it is not reachable within a second.

import type { KindDefinition } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import type { Context } from './context.js';
import { OPTIONS } from './context.js';
import { usageError } from './errors.js';
import { createApiClient } from './http.js';
import { FORMATS } from './output.js';
import { resolveConnection } from './profile.js';
import { RESOURCE_VERBS } from './resources.js';
import type { SchemaNode } from './schema.js';
import { SYSTEM_VIEWS } from './system.js';

/** The commands `stratus` takes besides the kinds. */
export const CLIENT_COMMANDS = ['operations', 'events', 'system', 'login', 'completion'] as const;
const SERVER_COMMANDS = ['start', 'migrate', 'sim', 'admin', 'drill', 'help'];

const BASH = `# stratus completion for bash: source <(stratus completion bash)
_stratus() {
  local IFS=$'\\n'
  COMPREPLY=($(stratus __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _stratus stratus
`;

const ZSH = `#compdef stratus
# stratus completion for zsh: source <(stratus completion zsh) after compinit
_stratus() {
  local -a candidates
  candidates=("\${(@f)$(stratus __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _stratus stratus
`;

/** Runs `stratus completion bash|zsh`. */
export function runCompletion(ctx: Context): number {
  const [, shell, extra] = ctx.positionals;
  if ((shell !== 'bash' && shell !== 'zsh') || extra !== undefined)
    throw usageError('completion: expected bash or zsh');
  ctx.out.write(shell === 'bash' ? BASH : ZSH);
  return 0;
}

const flags = Object.entries(OPTIONS).flatMap(([name, o]) => [
  `--${name}`,
  ...('short' in o ? [`-${o.short}`] : []),
]);

/** Names of the kind's resources, if a server is configured and answers within a second. */
async function resourceNames(kind: KindDefinition, env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    const client = createApiClient(resolveConnection({}, env));
    const page = await client.request<{ items: Resource[] }>('GET', `/v1/${kind.name}`, {
      query: { limit: 500 },
      timeoutMs: 1000,
    });
    return page.items.map((r) => r.name);
  } catch {
    return [];
  }
}

/** The candidates for the last of `words` (the words after `stratus`, the one typed last). */
export async function candidates(
  words: readonly string[],
  kinds: Context['kinds'],
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const previous = before.at(-1);
  const [command, verb] = before;
  const kind = command === undefined ? undefined : kinds.get(command);
  let all: string[];
  if (previous === '-o' || previous === '--output') all = [...FORMATS];
  else if (previous === '--kind') all = kinds.all().map((k) => k.name);
  else if (previous === '--set' && kind)
    all = Object.keys((kind.spec as SchemaNode).properties ?? {}).map((f) => `${f}=`);
  else if (current.startsWith('-')) all = flags;
  else if (command === undefined)
    all = [...kinds.all().map((k) => k.name), ...CLIENT_COMMANDS, ...SERVER_COMMANDS];
  else if (kind && verb === undefined) all = [...RESOURCE_VERBS, ...Object.keys(kind.actions ?? {})];
  else if (kind && before.length === 2 && verb !== 'list' && verb !== 'create')
    all = await resourceNames(kind, env);
  else if (command === 'operations' && verb === undefined) all = ['get', 'wait'];
  else if (command === 'system' && verb === undefined) all = Object.keys(SYSTEM_VIEWS);
  else if (command === 'system' && verb === 'dead-letters' && before.length === 2) all = ['redrive'];
  else if (command === 'completion' && verb === undefined) all = ['bash', 'zsh'];
  else all = [];
  return all.filter((c) => c.startsWith(current));
}
