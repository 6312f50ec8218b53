// Where the client finds its server and key: flags, then the environment, then a profile saved
// by `stratus login`. The profile file is the user's alone (mode 0600 in a 0700 directory): it
// holds API keys.

import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors.js';

/** One saved server and key. */
export interface Profile {
  readonly url: string;
  readonly apiKey: string;
}

/** The profile file: profiles by name and the one used when none is named. */
export interface ProfileFile {
  current: string;
  profiles: Record<string, Profile>;
}

/** The default profile's name. */
export const DEFAULT_PROFILE = 'default';

/** `$XDG_CONFIG_HOME/stratus/profiles.json`, else `~/.config/stratus/profiles.json`. */
export function profilePath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'stratus', 'profiles.json');
}

/** The profile file, or an empty one when there is none yet. */
export function readProfiles(path: string): ProfileFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { current: DEFAULT_PROFILE, profiles: {} };
    throw new CliError(`cannot read the profile file ${path}: ${(err as Error).message}`, EXIT.failure);
  }
  try {
    const parsed = JSON.parse(text) as Partial<ProfileFile>;
    return { current: parsed.current ?? DEFAULT_PROFILE, profiles: parsed.profiles ?? {} };
  } catch (err) {
    throw new CliError(`the profile file ${path} is not JSON: ${(err as Error).message}`, EXIT.failure);
  }
}

/** Saves the file owner-only, replacing it in one rename so a reader never sees half of it. */
export function writeProfiles(path: string, file: ProfileFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFileSync is masked by the umask; the key file must be 0600 whatever it is.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** What the command line says about the server. */
export interface ConnectionFlags {
  readonly url?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly profile?: string | undefined;
}

/** The server and key a command talks to, and where each came from (for error messages). */
export interface Connection {
  readonly url: string;
  readonly apiKey: string;
  readonly profileName: string;
}

/**
 * Flags win over the environment (`STRATUS_URL`, `STRATUS_API_KEY`, `STRATUS_PROFILE`), which
 * wins over the profile. A missing URL or key is an error naming the three ways to give it.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Connection {
  const path = profilePath(env);
  const file = readProfiles(path);
  const named = flags.profile ?? env.STRATUS_PROFILE;
  const profileName = named ?? file.current;
  const profile = file.profiles[profileName];
  if (named !== undefined && profile === undefined)
    throw new CliError(
      `no profile "${named}" in ${path} (it has ${Object.keys(file.profiles).join(', ') || 'none'}): create it with stratus login --profile ${named} --url URL --api-key KEY`,
      EXIT.usage,
    );
  const url = flags.url ?? (env.STRATUS_URL || undefined) ?? profile?.url;
  const apiKey = flags.apiKey ?? (env.STRATUS_API_KEY || undefined) ?? profile?.apiKey;
  const missing = [
    url === undefined ? ['the server URL', '--url', 'STRATUS_URL'] : undefined,
    apiKey === undefined ? ['an API key', '--api-key', 'STRATUS_API_KEY'] : undefined,
  ].filter((m) => m !== undefined);
  if (missing.length > 0) {
    const what = missing.map((m) => m[0]).join(' and ');
    const ways = missing.map((m) => `${m[1]} or ${m[2]}`).join(', ');
    throw new CliError(
      `missing ${what}: pass ${ways}, or save a profile with stratus login --url URL --api-key KEY (profile "${profileName}" in ${path}: ${profile ? 'incomplete' : 'not found'})`,
      EXIT.usage,
    );
  }
  return { url: url!.replace(/\/+$/, ''), apiKey: apiKey!, profileName };
}
