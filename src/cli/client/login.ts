// `stratus login --url URL --api-key KEY [--profile NAME]`: checks the key against the server,
// then saves it as a profile (and makes that profile the current one).

import type { Context } from './context.js';
import { usageError } from './errors.js';
import { createApiClient } from './http.js';
import { DEFAULT_PROFILE, profilePath, readProfiles, writeProfiles } from './profile.js';

/** Runs `stratus login …`. */
export async function runLogin(ctx: Context): Promise<number> {
  const { options, env } = ctx;
  if (ctx.positionals.length > 1) throw usageError(`unexpected argument "${ctx.positionals[1]}"`);
  const url = (options.url ?? env.STRATUS_URL)?.replace(/\/+$/, '');
  const apiKey = options['api-key'] ?? env.STRATUS_API_KEY;
  const missing = [url ? undefined : '--url', apiKey ? undefined : '--api-key'].filter(Boolean);
  if (missing.length > 0) throw usageError(`login: ${missing.join(' and ')} required`);
  const name = options.profile ?? DEFAULT_PROFILE;
  // Any role may read the instance types: a key that can do that is a key the server takes.
  await createApiClient({ url: url!, apiKey: apiKey!, profileName: name }).request(
    'GET',
    '/v1/instance-types',
  );
  const path = profilePath(env);
  const file = readProfiles(path);
  file.profiles[name] = { url: url!, apiKey: apiKey! };
  file.current = name;
  writeProfiles(path, file);
  ctx.out.write(`saved profile "${name}" (${url}) in ${path}\n`);
  return 0;
}
