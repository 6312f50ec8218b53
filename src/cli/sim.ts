// `stratus sim`: the simulated cloud as a process that many replicas share. Validated
// settings (exit 2 naming the setting), a ready line with the URL, readiness and metrics,
// graceful shutdown on SIGTERM or SIGINT, and with `--state` the world kept across restarts.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, type Env, isConfigError, LOG_LEVELS, type LogLevel } from '../config/index.js';
import { createLogger } from '../runtime/logger.js';
import { isProfileError, PROFILES, type Profile, parseProfile } from '../sim/behaviour/profile.js';
import { createSimBackends } from '../sim/index.js';
import { buildSimServer } from '../sim/server/app.js';
import { loadState, saveState } from '../sim/state.js';

/** The validated settings of `stratus sim`. */
export interface SimConfig {
  /** Interface to listen on. */
  readonly host: string;
  /** Port; 0 picks a free one (the ready line says which). */
  readonly port: number;
  /** The behaviour profile. */
  readonly profile: Profile;
  /** Token of the admin routes (faults, profile, crashes); none: those routes do not exist. */
  readonly adminToken: string | undefined;
  /** File the world is kept in across restarts. */
  readonly stateFile: string | undefined;
  /** How often a changed world is saved, ms. */
  readonly saveIntervalMs: number;
  /** Log level. */
  readonly logLevel: LogLevel;
}

/** Help of `stratus sim`. */
export const SIM_HELP = `Usage: stratus sim [settings]

  --port N               SIM_PORT            port to listen on, 0 to 65535 (default 7070)
  --host H               SIM_HOST            interface to listen on (default 127.0.0.1)
  --profile P            SIM_PROFILE         fast, default, or a JSON profile file (default: default)
  --admin-token T        SIM_ADMIN_TOKEN     enables the fault and admin routes (16+ characters)
  --state FILE           SIM_STATE           keeps the world in FILE across restarts
  --save-interval-ms N   SIM_SAVE_INTERVAL_MS  how often a changed world is saved (default 5000)
  --log-level L          LOG_LEVEL           ${LOG_LEVELS.join(', ')} (default info)
`;

function profileFrom(raw: string, source: string): Profile {
  const builtIn = PROFILES[raw];
  if (builtIn !== undefined) return builtIn;
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(raw, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `invalid ${source}: ${JSON.stringify(raw)} is neither fast, default nor a readable JSON file (${(error as Error).message})`,
    );
  }
  try {
    return parseProfile(document);
  } catch (error) {
    if (isProfileError(error)) throw new ConfigError(`invalid ${source}: ${raw}: ${error.message}`);
    throw error;
  }
}

/** Builds the settings from flags, then environment, then defaults; throws ConfigError. */
export function loadSimConfig(args: readonly string[], env: Env = process.env): SimConfig {
  const flags = ['port', 'host', 'profile', 'admin-token', 'state', 'save-interval-ms', 'log-level'];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run \`stratus sim --help\` for the settings.`);
  }
  const read = (flag: string, envName: string): [string, string] | undefined => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return [fromFlag, `--${flag}`];
    const fromEnv = env[envName];
    return fromEnv === undefined || fromEnv === '' ? undefined : [fromEnv, `${envName} (environment)`];
  };
  const integer = (flag: string, envName: string, min: number, max: number, fallback: number) => {
    const got = read(flag, envName);
    if (got === undefined) return fallback;
    const n = /^\d+$/.test(got[0]) ? Number(got[0]) : Number.NaN;
    if (!(n >= min && n <= max)) {
      throw new ConfigError(
        `invalid ${got[1]}: ${JSON.stringify(got[0])} is not an integer from ${min} to ${max}`,
      );
    }
    return n;
  };
  const host = read('host', 'SIM_HOST') ?? ['127.0.0.1', ''];
  if (!/^[A-Za-z0-9.:-]+$/.test(host[0])) {
    throw new ConfigError(`invalid ${host[1]}: ${JSON.stringify(host[0])} is not an IP address or host name`);
  }
  const token = read('admin-token', 'SIM_ADMIN_TOKEN');
  if (token !== undefined && token[0].length < 16) {
    throw new ConfigError(`invalid ${token[1]}: an admin token needs at least 16 characters`);
  }
  const level = read('log-level', 'LOG_LEVEL');
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level[0])) {
    throw new ConfigError(
      `invalid ${level[1]}: ${JSON.stringify(level[0])} is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const profile = read('profile', 'SIM_PROFILE');
  return {
    host: host[0],
    port: integer('port', 'SIM_PORT', 0, 65_535, 7_070),
    profile: profile === undefined ? PROFILES.default! : profileFrom(profile[0], profile[1]),
    adminToken: token?.[0],
    stateFile: read('state', 'SIM_STATE')?.[0],
    saveIntervalMs: integer('save-interval-ms', 'SIM_SAVE_INTERVAL_MS', 100, 3_600_000, 5_000),
    logLevel: (level?.[0] as LogLevel | undefined) ?? 'info',
  };
}

/** Runs `stratus sim` until SIGTERM or SIGINT; resolves with the exit status. */
export async function runSim(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(SIM_HELP);
    return 0;
  }
  let config: SimConfig;
  try {
    config = loadSimConfig(args);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    process.stderr.write(`stratus: ${error.message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logLevel, nodeId: `sim-${process.pid}`, role: 'all' });
  const sim = createSimBackends({ profile: config.profile });
  const { stateFile } = config;
  if (stateFile !== undefined && (await loadState(sim, stateFile))) {
    const restored = { profile: sim.cloud.profile.name, faultRules: sim.cloud.faults.list().length };
    logger.info({ stateFile, auditEntries: sim.cloud.audit.length, ...restored }, 'world restored');
  }
  const server = buildSimServer({
    sim,
    ...(config.adminToken === undefined ? {} : { adminToken: config.adminToken }),
  });
  // Every change of a port's world is a destructive call, and every destructive call is
  // audited: a grown audit says the world changed. Fault rules and the profile change
  // through the admin routes, so their revision and identity are compared too. A SIGKILL
  // loses at most one interval of it.
  const mark = () => `${sim.cloud.audit.length}/${sim.cloud.faults.revision}`;
  let saved = { mark: mark(), profile: sim.cloud.profile };
  const save = async () => {
    if (stateFile === undefined) return;
    if (saved.mark === mark() && saved.profile === sim.cloud.profile) return;
    saved = { mark: mark(), profile: sim.cloud.profile };
    await saveState(sim, stateFile);
  };
  const saver = setInterval(
    () => save().catch((err: unknown) => logger.error({ err }, 'saving the world failed')),
    config.saveIntervalMs,
  );
  saver.unref();

  const url = await server.app.listen({ host: config.host, port: config.port });
  logger.info(
    { url, profile: sim.cloud.profile.name, admin: config.adminToken !== undefined, stateFile },
    `stratus sim ready: listening on ${url}, profile ${sim.cloud.profile.name}`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'stopping');
  server.drain();
  clearInterval(saver);
  await server.app.close();
  // Saved whatever changed: fault rules' hits count no revision but must survive.
  if (stateFile !== undefined) await saveState(sim, stateFile);
  logger.info({ auditEntries: sim.cloud.audit.length }, 'stopped');
  return 0;
}
