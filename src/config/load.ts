import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';
import { type Config, type DefaultContext, SETTINGS, type SettingRow } from './settings.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the configuration comes from; each source is optional (tests give only what they test). */
export interface ConfigSources {
  /** Command-line flags (`--port 8080`). */
  args?: readonly string[];
  env?: Env;
  /** Reads the config file named by `--config`; default `fs.readFileSync`. */
  readFile?: (path: string) => string;
  pid?: number;
}

type Rows = Record<string, SettingRow<unknown>>;
const rows: Rows = SETTINGS;

function parseFlags(args: readonly string[]): Record<string, string> {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: Object.fromEntries(Object.values(rows).map((s) => [s.flag, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
    return values as Record<string, string>;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run \`stratus --help\` for the settings.`);
  }
}

function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`invalid config file ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`invalid config file ${path}: expected a JSON object of settings by name`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in rows) || rows[key]!.inFile === false) {
      throw new ConfigError(
        `invalid config file ${path}: unknown setting ${JSON.stringify(key)} (the names are those of the settings table, e.g. "workerConcurrency")`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the configuration from flags, then environment, then the config file, then defaults
 * (in that order of precedence), and validates every value with its row's kind. Throws
 * `ConfigError` naming the setting, where its value came from, the value and what it may be.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const flags = parseFlags(sources.args ?? []);

  const fromFlagOrEnv = (s: SettingRow<unknown>): [unknown, string] | undefined => {
    const flag = flags[s.flag];
    if (flag !== undefined) return [flag, `--${s.flag}`];
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') return [fromEnv, `${s.env} (environment)`];
    return undefined;
  };
  const validate = (s: SettingRow<unknown>, [raw, source]: [unknown, string]): unknown => {
    const value = s.kind.parse(raw);
    if (value === undefined) {
      throw new ConfigError(`invalid ${source}: ${JSON.stringify(raw)} is not ${s.kind.expected}`);
    }
    return value;
  };

  const fileSource = fromFlagOrEnv(SETTINGS.configFile);
  const filePath = fileSource && (validate(SETTINGS.configFile, fileSource) as string);
  const file = filePath ? readConfigFile(filePath, sources.readFile ?? ((p) => readFileSync(p, 'utf8'))) : {};

  const values: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(rows)) {
    const given =
      fromFlagOrEnv(s) ?? (key in file ? [file[key], `${key} (config file ${filePath})`] : undefined);
    if (given) values[key] = validate(s, given as [unknown, string]);
  }
  const context: DefaultContext = { values, pid: sources.pid ?? process.pid };
  for (const [key, s] of Object.entries(rows)) {
    if (key in values) continue;
    values[key] =
      typeof s.default === 'function' ? (s.default as (c: DefaultContext) => unknown)(context) : s.default;
  }
  const config = values as Config;
  checkCombinations(config);
  return config;
}

/** The rules between settings. */
function checkCombinations(config: Config): void {
  if (config.databaseUrl === undefined) {
    if (config.role !== 'all') {
      throw new ConfigError(
        `invalid role ${JSON.stringify(config.role)} without a database URL: the embedded database serves one process that runs every role; set --database-url (DATABASE_URL) to run api and worker processes apart`,
      );
    }
    if (config.redisUrl !== undefined) {
      throw new ConfigError(
        'invalid --redis-url (REDIS_URL) without a database URL: Redis dispatch needs a shared PostgreSQL; set --database-url (DATABASE_URL) too, or drop the Redis URL to run embedded',
      );
    }
  }
  if (config.jobHeartbeatMs * 2 > config.jobLeaseMs) {
    throw new ConfigError(
      `invalid job heartbeat ${config.jobHeartbeatMs} ms: at most half the job lease (${config.jobLeaseMs} ms), or one late beat loses every lease`,
    );
  }
  if (config.jobHeartbeatMs * 2 > config.queueVisibilityTimeoutMs) {
    throw new ConfigError(
      `invalid job heartbeat ${config.jobHeartbeatMs} ms: at most half the queue visibility timeout (${config.queueVisibilityTimeoutMs} ms), or live workers' messages are delivered again`,
    );
  }
  if (config.fencedStatementTimeoutMs + config.fencedIdleTimeoutMs >= config.leaderIdleSessionTimeoutMs) {
    throw new ConfigError(
      `invalid fenced statement timeout ${config.fencedStatementTimeoutMs} ms + fenced idle timeout ${config.fencedIdleTimeoutMs} ms: together below the leader idle session timeout (${config.leaderIdleSessionTimeoutMs} ms), so a stopped leader's fenced transaction ends before its lock is handed on`,
    );
  }
  if (config.drainDelayMs >= config.shutdownTimeoutMs) {
    throw new ConfigError(
      `invalid drain delay ${config.drainDelayMs} ms: it must be shorter than the shutdown timeout (${config.shutdownTimeoutMs} ms), which it counts against`,
    );
  }
}
