import { hostname } from 'node:os';
import { parseArgs } from 'node:util';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated configuration of one `stratus start` process. */
export interface Config {
  role: Role;
  /** Interface the HTTP listener binds to. */
  host: string;
  /** HTTP port of the API (roles api and all); 0 picks a free port. */
  port: number;
  /** Optional port for /healthz, /readyz and /metrics on a worker-only process. */
  healthPort: number | undefined;
  nodeId: string;
  /** PostgreSQL URL; undefined runs the embedded database in `dataDir`. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Prefix of every Redis key, so deployments can share one Redis. */
  redisPrefix: string;
  dataDir: string;
  logLevel: LogLevel;
  /** How long a graceful shutdown may take before it is forced. */
  shutdownTimeoutMs: number;
  /** URL of a `stratus sim` to use as the cloud; absent: the in-process simulated cloud. */
  cloudUrl?: string;
}

/** A setting that was given a value it cannot take. The CLI prints `message` and exits 2. */
export class ConfigError extends Error {
  readonly code = 'STRATUS_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return (err as { code?: unknown } | null)?.code === 'STRATUS_CONFIG_INVALID';
}

interface Setting<T> {
  flag: string;
  env: string;
  /** What the value must be, as said to the user. */
  expected: string;
  parse(raw: string): T | undefined;
}

const integer = (min: number, max: number) => (raw: string) => {
  if (!/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
};
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string) =>
    (values as readonly string[]).includes(raw) ? (raw as T) : undefined;
const urlWith = (protocols: string[]) => (raw: string) => {
  try {
    return protocols.includes(new URL(raw).protocol) ? raw : undefined;
  } catch {
    return undefined;
  }
};

const settings = {
  role: { flag: 'role', env: 'ROLE', expected: `one of ${ROLES.join(', ')}`, parse: oneOf(ROLES) },
  host: {
    flag: 'host',
    env: 'HOST',
    expected: 'an IP address or host name to listen on',
    parse: (raw) => (/^[A-Za-z0-9.:-]+$/.test(raw) ? raw : undefined),
  },
  port: { flag: 'port', env: 'PORT', expected: 'an integer from 0 to 65535', parse: integer(0, 65535) },
  healthPort: {
    flag: 'health-port',
    env: 'HEALTH_PORT',
    expected: 'an integer from 0 to 65535',
    parse: integer(0, 65535),
  },
  nodeId: {
    flag: 'node-id',
    env: 'NODE_ID',
    expected: '1 to 63 letters, digits, dots, underscores or dashes',
    parse: (raw) => (/^[A-Za-z0-9._-]{1,63}$/.test(raw) ? raw : undefined),
  },
  databaseUrl: {
    flag: 'database-url',
    env: 'DATABASE_URL',
    expected: 'a postgres:// or postgresql:// URL',
    parse: urlWith(['postgres:', 'postgresql:']),
  },
  redisUrl: {
    flag: 'redis-url',
    env: 'REDIS_URL',
    expected: 'a redis:// or rediss:// URL',
    parse: urlWith(['redis:', 'rediss:']),
  },
  redisPrefix: {
    flag: 'redis-prefix',
    env: 'REDIS_PREFIX',
    expected: '1 to 64 letters, digits or ._:- characters',
    parse: (raw) => (/^[A-Za-z0-9._:-]{1,64}$/.test(raw) ? raw : undefined),
  },
  dataDir: {
    flag: 'data-dir',
    env: 'STRATUS_DATA_DIR',
    expected: 'a directory path',
    parse: (raw) => (raw.trim() === '' ? undefined : raw),
  },
  logLevel: {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    parse: oneOf(LOG_LEVELS),
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout-ms',
    env: 'SHUTDOWN_TIMEOUT_MS',
    expected: 'an integer number of milliseconds from 100 to 600000',
    parse: integer(100, 600_000),
  },
  cloudUrl: {
    flag: 'cloud-url',
    env: 'CLOUD_URL',
    expected: 'an http:// or https:// URL of a stratus sim',
    parse: urlWith(['http:', 'https:']),
  },
} satisfies Record<keyof Config, Setting<unknown>>;

type Settings = typeof settings;
type Parsed<K extends keyof Settings> = Exclude<ReturnType<Settings[K]['parse']>, undefined>;

/** The settings `start` accepts, for `--help`. */
export const SETTINGS_HELP = Object.values(settings).map((s) => ({
  flag: s.flag,
  env: s.env,
  expected: s.expected,
}));

export type Env = Record<string, string | undefined>;

/**
 * Builds the configuration from flags, then environment, then defaults (in that order of
 * precedence), and validates every value. Throws `ConfigError` naming the setting, the value
 * and what it may be.
 */
export function loadConfig(args: readonly string[], env: Env = process.env, pid = process.pid): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: Object.fromEntries(Object.values(settings).map((s) => [s.flag, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run \`stratus --help\` for the settings.`);
  }

  function read<K extends keyof Settings>(key: K): Parsed<K> | undefined {
    const s: Setting<unknown> = settings[key];
    const fromFlag = values[s.flag];
    const [raw, source] =
      typeof fromFlag === 'string' ? [fromFlag, `--${s.flag}`] : [env[s.env], `${s.env} (environment)`];
    if (raw === undefined || (source.endsWith('(environment)') && raw === '')) return undefined;
    const parsed = s.parse(raw);
    if (parsed === undefined) {
      throw new ConfigError(`invalid ${source}: ${JSON.stringify(raw)} is not ${s.expected}`);
    }
    return parsed as Parsed<K>;
  }

  const config: Config = {
    role: read('role') ?? 'all',
    host: read('host') ?? '127.0.0.1',
    port: read('port') ?? 8080,
    healthPort: read('healthPort'),
    nodeId: read('nodeId') ?? defaultNodeId(pid),
    databaseUrl: read('databaseUrl'),
    redisUrl: read('redisUrl'),
    redisPrefix: read('redisPrefix') ?? 'stratus:',
    dataDir: read('dataDir') ?? './.stratus',
    logLevel: read('logLevel') ?? 'info',
    shutdownTimeoutMs: read('shutdownTimeoutMs') ?? 30_000,
  };
  const cloudUrl = read('cloudUrl');
  if (cloudUrl !== undefined) config.cloudUrl = cloudUrl;

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
  return config;
}

/** hostname-pid, cut to the allowed characters and length. */
export function defaultNodeId(pid: number): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  const suffix = `-${pid}`;
  return `${host.slice(0, 63 - suffix.length) || 'node'}${suffix}`;
}
