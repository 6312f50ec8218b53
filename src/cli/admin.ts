// `stratus admin create-key --tenant <id> --role <role> [--name <name>] [settings]`: makes an
// API key directly in the database (the first admin key of an HA installation, or a way back
// in), printing it once on stdout. Every other setting (--database-url, …) is read as by
// `stratus start`.

import { type Config, isConfigError, loadConfig } from '../config/index.js';
import { createAuthService, isKeyRole, KEY_ROLES, TENANT_ID_PATTERN } from '../control/auth/index.js';
import { pendingMigrations } from '../ha/db/migrate.js';
import { migrations } from '../migrations/index.js';
import { isDataDirInUseError } from '../runtime/data-dir-lock.js';
import { createLogger } from '../runtime/logger.js';

export const ADMIN_USAGE = `Usage:
  stratus admin create-key --tenant <id> --role admin|member|viewer [--name <name>] [settings]
      makes an API key in the database named by the settings (DATABASE_URL, or the embedded
      database of --data-dir while no server runs on it) and prints it once on stdout
`;

const usage = (message: string): number => {
  process.stderr.write(`stratus admin: ${message}\n\n${ADMIN_USAGE}`);
  return 2;
};

/** Takes `--flag value` or `--flag=value` out of `args`; undefined when absent. */
function take(args: string[], flag: string): string | undefined | Error {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--${flag}`) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) return new Error(`--${flag} needs a value`);
      args.splice(i, 2);
      return value;
    }
    if (arg.startsWith(`--${flag}=`)) {
      args.splice(i, 1);
      return arg.slice(flag.length + 3);
    }
  }
  return undefined;
}

/** Runs `stratus admin …`; resolves with the exit status. */
export async function runAdmin(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(ADMIN_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'create-key') return usage(`unknown command ${JSON.stringify(sub)}: expected create-key`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(ADMIN_USAGE);
    return 0;
  }
  const args = [...rest];
  const tenant = take(args, 'tenant');
  const role = take(args, 'role');
  const name = take(args, 'name') ?? 'created by stratus admin create-key';
  for (const v of [tenant, role, name]) if (v instanceof Error) return usage(v.message);
  if (typeof tenant !== 'string' || !TENANT_ID_PATTERN.test(tenant))
    return usage('--tenant <id> is required: lowercase letters, digits and inner hyphens');
  if (!isKeyRole(role)) return usage(`--role is required: one of ${KEY_ROLES.join(', ')}`);
  let config: Config;
  try {
    config = loadConfig({ args, env: process.env });
  } catch (err) {
    if (isConfigError(err)) return usage(err.message);
    throw err;
  }
  const { openStores } = await import('../runtime/stores.js');
  const logger = createLogger({ level: 'warn', nodeId: config.nodeId, role: config.role });
  let stores: Awaited<ReturnType<typeof openStores>>;
  try {
    stores = await openStores({ ...config, redisUrl: undefined }, logger);
  } catch (err) {
    process.stderr.write(`stratus admin: ${isDataDirInUseError(err) ? err.message : String(err)}\n`);
    return 1;
  }
  try {
    const pending = await pendingMigrations(stores.db, migrations);
    if (pending.length > 0) {
      process.stderr.write(
        `stratus admin: the database lacks migrations ${pending.join(', ')}: run stratus migrate\n`,
      );
      return 1;
    }
    const auth = createAuthService({ db: stores.db });
    try {
      const { key, token } = await auth.createKey(tenant, { name: name as string, role });
      process.stderr.write(
        `stratus admin: created key ${key.id} (${key.role} of tenant ${key.tenant}); it is shown this once:\n`,
      );
      process.stdout.write(`${token}\n`);
      return 0;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`stratus admin: ${message}\n`);
      return 1;
    } finally {
      await auth.close();
    }
  } finally {
    await stores.close();
  }
}
