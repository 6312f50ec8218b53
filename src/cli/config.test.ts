import { describe, expect, it } from 'vitest';
import { type Config, type ConfigError, defaultNodeId, isConfigError, loadConfig } from './config.js';

const PG = 'postgres://postgres@127.0.0.1:5432/test';

function error(args: string[], env: Record<string, string> = {}): ConfigError {
  try {
    loadConfig(args, env);
  } catch (err) {
    expect(isConfigError(err)).toBe(true);
    return err as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(args)} ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig([], {}, 4242);
    expect(config).toEqual<Config>({
      role: 'all',
      host: '127.0.0.1',
      port: 8080,
      healthPort: undefined,
      nodeId: defaultNodeId(4242),
      databaseUrl: undefined,
      redisUrl: undefined,
      redisPrefix: 'stratus:',
      dataDir: './.stratus',
      logLevel: 'info',
      shutdownTimeoutMs: 30_000,
    });
    expect(config.nodeId).toMatch(/-4242$/);
  });

  it('takes flags over environment over defaults, setting by setting', () => {
    const env = {
      ROLE: 'worker',
      PORT: '9000',
      NODE_ID: 'env-node',
      DATABASE_URL: PG,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'env:',
      STRATUS_DATA_DIR: '/var/lib/env',
      LOG_LEVEL: 'debug',
      HEALTH_PORT: '9100',
      HOST: '0.0.0.0',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    const fromEnv = loadConfig([], env);
    expect(fromEnv).toMatchObject({
      role: 'worker',
      port: 9000,
      nodeId: 'env-node',
      databaseUrl: PG,
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'env:',
      dataDir: '/var/lib/env',
      logLevel: 'debug',
      healthPort: 9100,
      host: '0.0.0.0',
      shutdownTimeoutMs: 5000,
    });
    const fromFlags = loadConfig(
      [
        '--role',
        'api',
        '--port',
        '9001',
        '--node-id',
        'flag-node',
        '--database-url',
        'postgresql://db.internal/stratus',
        '--redis-url',
        'rediss://cache.internal:6380',
        '--redis-prefix',
        'prod-1:',
        '--data-dir',
        'flagdir',
        '--log-level',
        'warn',
        '--health-port',
        '0',
        '--host',
        '::1',
        '--shutdown-timeout-ms',
        '100',
      ],
      env,
    );
    expect(fromFlags).toEqual<Config>({
      role: 'api',
      port: 9001,
      nodeId: 'flag-node',
      databaseUrl: 'postgresql://db.internal/stratus',
      redisUrl: 'rediss://cache.internal:6380',
      redisPrefix: 'prod-1:',
      dataDir: 'flagdir',
      logLevel: 'warn',
      healthPort: 0,
      host: '::1',
      shutdownTimeoutMs: 100,
    });
  });

  it('treats an empty environment variable as unset', () => {
    expect(loadConfig([], { PORT: '', ROLE: '' }).port).toBe(8080);
  });

  it.each([
    [['--role', 'leader'], {}, 'invalid --role: "leader" is not one of api, worker, all'],
    [[], { ROLE: 'boss' }, 'invalid ROLE (environment): "boss" is not one of api, worker, all'],
    [['--port', '70000'], {}, 'invalid --port: "70000" is not an integer from 0 to 65535'],
    [['--port', '80a'], {}, 'invalid --port: "80a" is not an integer from 0 to 65535'],
    [[], { PORT: '-1' }, 'invalid PORT (environment): "-1" is not an integer from 0 to 65535'],
    [['--health-port', 'x'], {}, 'invalid --health-port: "x" is not an integer from 0 to 65535'],
    [
      ['--node-id', 'a b'],
      {},
      'invalid --node-id: "a b" is not 1 to 63 letters, digits, dots, underscores or dashes',
    ],
    [[], { NODE_ID: 'x'.repeat(64) }, 'invalid NODE_ID (environment)'],
    [
      ['--database-url', 'mysql://x/y'],
      {},
      'invalid --database-url: "mysql://x/y" is not a postgres:// or postgresql:// URL',
    ],
    [
      [],
      { DATABASE_URL: 'not a url' },
      'invalid DATABASE_URL (environment): "not a url" is not a postgres://',
    ],
    [
      ['--database-url', PG, '--redis-url', 'http://x'],
      {},
      'invalid --redis-url: "http://x" is not a redis:// or rediss:// URL',
    ],
    [['--data-dir', ' '], {}, 'invalid --data-dir: " " is not a directory path'],
    [
      ['--redis-prefix', 'a b'],
      {},
      'invalid --redis-prefix: "a b" is not 1 to 64 letters, digits or ._:- characters',
    ],
    [
      ['--log-level', 'verbose'],
      {},
      'invalid --log-level: "verbose" is not one of fatal, error, warn, info, debug, trace, silent',
    ],
    [[], { LOG_LEVEL: 'loud' }, 'invalid LOG_LEVEL (environment)'],
    [
      ['--shutdown-timeout-ms', '5'],
      {},
      'invalid --shutdown-timeout-ms: "5" is not an integer number of milliseconds',
    ],
    [['--host', 'a/b'], {}, 'invalid --host: "a/b" is not an IP address or host name'],
  ])('refuses %j %j', (args, env, message) => {
    expect(error(args, env).message).toContain(message);
  });

  it('refuses unknown flags and stray arguments, pointing at --help', () => {
    expect(error(['--colour', 'red']).message).toMatch(/Unknown option '--colour'.*stratus --help/);
    expect(error(['extra']).message).toMatch(/extra.*stratus --help/);
  });

  it('refuses a split role or Redis on the embedded database, saying why', () => {
    expect(error(['--role', 'worker']).message).toContain(
      'embedded database serves one process that runs every role',
    );
    expect(error([], { REDIS_URL: 'redis://127.0.0.1:6379' }).message).toContain('needs a shared PostgreSQL');
    expect(loadConfig(['--role', 'worker', '--database-url', PG], {}).role).toBe('worker');
  });

  it('derives a valid node id from any host name', () => {
    expect(defaultNodeId(1)).toMatch(/^[A-Za-z0-9._-]{1,63}$/);
    expect(defaultNodeId(123456789).length).toBeLessThanOrEqual(63);
  });
});
