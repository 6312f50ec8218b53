// The client side of `stratus`: every command that talks to a running server, dispatched from
// the kind registry (a kind's name is a command) and the few fixed ones.

import { builtinRegistry } from '../../kinds/index.js';
import { candidates, runCompletion } from './completion.js';
import { createContext } from './context.js';
import { EXIT, isApiError, isCliError, usageError } from './errors.js';
import { runEvents } from './events.js';
import { clientHelp, kindHelp } from './help.js';
import { runLogin } from './login.js';
import { runResourceCommand } from './resources.js';
import { runOperations, runSystem } from './system.js';

export { EXIT } from './errors.js';
export { clientHelp } from './help.js';

/** Runs a client command; resolves with its exit status, having printed any error on stderr. */
export async function runClient(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const kinds = builtinRegistry();
  if (argv[0] === '__complete') {
    process.stdout.write((await candidates(argv.slice(1), kinds, env)).map((c) => `${c}\n`).join(''));
    return 0;
  }
  try {
    const ctx = createContext(argv, kinds, env);
    const [command] = ctx.positionals;
    const kind = command === undefined ? undefined : kinds.get(command);
    if (ctx.options.help) {
      ctx.out.write(kind ? kindHelp(kind) : clientHelp(kinds));
      return 0;
    }
    if (kind) return await runResourceCommand(ctx, kind);
    switch (command) {
      case 'operations':
        return await runOperations(ctx);
      case 'events':
        return await runEvents(ctx);
      case 'system':
        return await runSystem(ctx);
      case 'login':
        return await runLogin(ctx);
      case 'completion':
        return runCompletion(ctx);
      default:
        throw usageError(`unknown command ${JSON.stringify(command)} (see stratus --help)`);
    }
  } catch (err) {
    if (isApiError(err)) {
      process.stderr.write(`stratus: ${err.method} ${err.path}: ${err.message}\n`);
      return err.exitCode;
    }
    if (isCliError(err)) {
      const hint = err.exitCode === EXIT.usage && !err.message.includes('--help') ? ' (see --help)' : '';
      process.stderr.write(`stratus: ${err.message}${hint}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
