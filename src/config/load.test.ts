import { describe, expect, it } from 'vitest';
import { defaultBackoff } from '../ha/leader/backoff.js';
import { defaultElectorSettings, defaultGuardSettings } from '../ha/leader/settings.js';
import { DEFAULT_SWEEPER_GRACE_MS } from '../ha/outbox/sweeper.js';
import { DEFAULT_VISIBILITY_TIMEOUT_MS } from '../ha/queue/port.js';
import { DEFAULT_LEASE_MS } from '../ha/worker/registrations.js';
import { WORKER_DEFAULTS } from '../ha/worker/settings.js';
import { type ConfigError, isConfigError } from './errors.js';
import { loadConfig } from './load.js';
import { type Config, DEFAULT_DRAIN_DELAY_MS, defaultNodeId } from './settings.js';

const PG = 'postgres://postgres@127.0.0.1:5432/test';

function load(
  args: string[],
  env: Record<string, string> = {},
  pid?: number,
  files: Record<string, string> = {},
) {
  return loadConfig({
    args,
    env,
    ...(pid === undefined ? {} : { pid }),
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
  });
}

function error(
  args: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): ConfigError {
  try {
    load(args, env, undefined, files);
  } catch (err) {
    expect(isConfigError(err)).toBe(true);
    return err as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(args)} ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = load([], {}, 4242);
    expect(config).toMatchObject<Partial<Config>>({
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
      drainDelayMs: 0,
    });
    expect(config.nodeId).toMatch(/-4242$/);
    expect(config.healthPort).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
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
    const fromEnv = load([], env);
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
    const fromFlags = load(
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
    expect(fromFlags).toMatchObject<Partial<Config>>({
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
    expect(load([], { PORT: '', ROLE: '' }).port).toBe(8080);
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
    expect(load(['--role', 'worker', '--database-url', PG], {}).role).toBe('worker');
  });

  it('refuses job and fence timings that would lose leases or break the hang bound', () => {
    expect(error(['--job-heartbeat-ms', '2500']).message).toContain('at most half the job lease (4000 ms)');
    expect(error(['--job-lease-ms', '60000', '--job-heartbeat-ms', '3000']).message).toContain(
      'at most half the queue visibility timeout',
    );
    expect(error(['--fenced-statement-timeout-ms', '2500']).message).toContain(
      'below the leader idle session timeout (3000 ms)',
    );
    expect(load(['--job-heartbeat-ms', '2000'], {}).jobHeartbeatMs).toBe(2000);
  });

  it('derives a valid node id from any host name', () => {
    expect(defaultNodeId(1)).toMatch(/^[A-Za-z0-9._-]{1,63}$/);
    expect(defaultNodeId(123456789).length).toBeLessThanOrEqual(63);
  });

  it('takes the tuning defaults from the kernel and leaves the rest to it', () => {
    const config = load([]);
    expect(config.jobLeaseMs).toBe(DEFAULT_LEASE_MS);
    expect(config.leaderHeartbeatMs).toBe(defaultElectorSettings.heartbeatIntervalMs);
    expect(config.leaderRenewDeadlineMs).toBe(defaultElectorSettings.renewDeadlineMs);
    expect(config.leaderIdleSessionTimeoutMs).toBe(defaultElectorSettings.idleSessionTimeoutMs);
    expect(config.leaderBackoffMaxMs).toBe(defaultBackoff.maxMs);
    expect(config.workerConcurrency).toBe(WORKER_DEFAULTS.concurrency);
    expect(config.queueVisibilityTimeoutMs).toBe(DEFAULT_VISIBILITY_TIMEOUT_MS);
    expect(config.sweeperGraceMs).toBe(DEFAULT_SWEEPER_GRACE_MS);
    expect(config.leaderStopGraceMs).toBe(defaultGuardSettings.singletonStopGraceMs);
    // Unset: the kernel applies the default it keeps inside.
    expect(config.breakerFailures).toBeUndefined();
  });

  it('reads a JSON config file below flags and environment, validating it like them', () => {
    const files = {
      '/etc/stratus.json': JSON.stringify({
        port: 9100,
        workerConcurrency: 7,
        sweeperGraceMs: 12_000,
        logLevel: 'warn',
        databaseUrl: PG,
        role: 'worker',
      }),
    };
    const fromFile = load(['--config', '/etc/stratus.json'], {}, undefined, files);
    expect(fromFile).toMatchObject({
      port: 9100,
      workerConcurrency: 7,
      sweeperGraceMs: 12_000,
      role: 'worker',
    });
    const envWins = load([], { STRATUS_CONFIG: '/etc/stratus.json', PORT: '9200' }, undefined, files);
    expect(envWins.port).toBe(9200);
    expect(envWins.workerConcurrency).toBe(7);
    const flagWins = load(
      ['--config', '/etc/stratus.json', '--worker-concurrency', '3'],
      { WORKER_CONCURRENCY: '4' },
      undefined,
      files,
    );
    expect(flagWins.workerConcurrency).toBe(3);

    expect(error(['--config', '/nope.json']).message).toContain('cannot read the config file /nope.json');
    expect(error(['--config', '/c.json'], {}, { '/c.json': '{port: 1}' }).message).toContain(
      'invalid config file /c.json',
    );
    expect(error(['--config', '/c.json'], {}, { '/c.json': '[1]' }).message).toContain(
      'expected a JSON object',
    );
    expect(error(['--config', '/c.json'], {}, { '/c.json': '{"workerConcurency": 3}' }).message).toContain(
      'unknown setting "workerConcurency"',
    );
    expect(error(['--config', '/c.json'], {}, { '/c.json': '{"configFile": "/x"}' }).message).toContain(
      'unknown setting "configFile"',
    );
    expect(error(['--config', '/c.json'], {}, { '/c.json': '{"workerConcurrency": 0}' }).message).toBe(
      'invalid workerConcurrency (config file /c.json): 0 is not an integer from 1 to 10000',
    );
    expect(error(['--config', '/c.json'], {}, { '/c.json': '{"role": 1}' }).message).toContain(
      'is not one of api, worker, all',
    );
  });

  it('drains for a few seconds in front of a load balancer and not at all embedded', () => {
    expect(load([]).drainDelayMs).toBe(0);
    expect(load(['--database-url', PG]).drainDelayMs).toBe(DEFAULT_DRAIN_DELAY_MS);
    expect(load(['--database-url', PG, '--role', 'api']).drainDelayMs).toBe(DEFAULT_DRAIN_DELAY_MS);
    expect(load(['--database-url', PG, '--role', 'worker']).drainDelayMs).toBe(0);
    expect(load(['--database-url', PG], { DRAIN_DELAY_MS: '250' }).drainDelayMs).toBe(250);
    expect(load(['--database-url', PG, '--shutdown-timeout-ms', '1000']).drainDelayMs).toBe(500);
    expect(error(['--drain-delay-ms', '30000']).message).toContain(
      'must be shorter than the shutdown timeout',
    );
  });
});
