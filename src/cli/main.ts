// The `stratus` command: the server's commands here, the client's (every kind, operations,
// events, system, login, completion) in ./client. Each loads only what it runs: a client
// command never loads the server's modules, so it starts in a fraction of the time.

import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import { VERSION } from '../version.js';

/** Exit status of a command line or setting the program cannot take. */
export const EXIT_USAGE = 2;

function fail(message: string, code = 1): number {
  process.stderr.write(`stratus: ${message}\n`);
  return code;
}

/** Runs the `stratus` command; resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const { helpText } = await import('./help.js');
    const { clientHelp } = await import('./client/help.js');
    const { builtinRegistry } = await import('../kinds/index.js');
    process.stdout.write(`${helpText(VERSION)}\n${clientHelp(builtinRegistry())}`);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === 'sim') return (await import('./sim.js')).runSim(rest);
  if (command === 'admin') return (await import('./admin.js')).runAdmin(rest);
  if (command === 'drill') return (await import('./drill.js')).runDrillCommand(rest);
  // Everything else talks to a running server: the kinds' commands, operations, events, system.
  if (command !== 'start' && command !== 'migrate')
    return (await import('./client/index.js')).runClient(argv);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write((await import('./help.js')).helpText(VERSION));
    return 0;
  }
  const { isConfigError, loadConfig } = await import('../config/index.js');
  let config: Config;
  try {
    config = loadConfig({ args: rest, env: process.env });
  } catch (err) {
    if (isConfigError(err)) return fail(err.message, EXIT_USAGE);
    throw err;
  }
  return command === 'migrate' ? runMigrate(config) : runStart(config);
}

async function runMigrate(config: Config): Promise<number> {
  const { openStores, applyMigrations } = await import('../runtime/stores.js');
  const { isDataDirInUseError } = await import('../runtime/data-dir-lock.js');
  const { createLogger } = await import('../runtime/logger.js');
  const logger = createLogger({ level: config.logLevel, nodeId: config.nodeId, role: config.role });
  try {
    const stores = await openStores({ ...config, redisUrl: undefined }, logger);
    try {
      const applied = await applyMigrations(stores.db);
      logger.info(
        { applied },
        applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'no migration to apply',
      );
    } finally {
      await stores.close();
    }
    return 0;
  } catch (err) {
    if (isDataDirInUseError(err)) return fail(err.message);
    logger.error({ err }, 'migration failed');
    return 1;
  }
}

async function runStart(config: Config): Promise<number> {
  const { startApp } = await import('../runtime/app.js');
  const { isDataDirInUseError } = await import('../runtime/data-dir-lock.js');
  const { createLogger } = await import('../runtime/logger.js');
  const logger = createLogger({ level: config.logLevel, nodeId: config.nodeId, role: config.role });
  // A Redis or database outage must never crash the process; anything else that escapes is a bug
  // worth a loud log line, not a silent exit.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  // Signals are handled from the first moment: one that arrives while the process is still
  // starting is kept and acted on as soon as the start completes.
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  let firstSignal: NodeJS.Signals | undefined;
  let stopped: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    stopped = resolve;
  });
  const stop = (signal: NodeJS.Signals) => {
    app!.shutdown(signal).then(
      (clean) => {
        logger.info({ clean }, 'stopped');
        stopped(clean ? 0 : 1);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        stopped(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignal !== undefined) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    firstSignal = signal;
    if (app) stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    app = await startApp(config, { logger });
  } catch (err) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (isDataDirInUseError(err)) return fail(err.message);
    logger.fatal({ err }, 'could not start');
    return 1;
  }
  if (firstSignal !== undefined) stop(firstSignal);
  const code = await done;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return code;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
