// The first admin key of the embedded default: created on the first start for tenant `local`,
// printed once with a command to try, and kept in the data directory readable by its owner
// only. Later starts only say where it is.

import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type AuthService, OPERATOR_TENANT } from '../control/auth/index.js';

/** The file in the data directory that holds the first admin key. */
export const ADMIN_KEY_FILE = 'admin-key';

/** Options of {@link ensureLocalAdminKey}. */
export interface LocalAdminKeyOptions {
  readonly auth: AuthService;
  readonly dataDir: string;
  /** Where the API listens, for the command to try. */
  readonly url: string | undefined;
  /** Writes to the terminal. */
  readonly print: (text: string) => void;
}

/** Creates, stores and prints the first admin key; returns its file and whether it is new. */
export async function ensureLocalAdminKey(
  options: LocalAdminKeyOptions,
): Promise<{ path: string; created: boolean }> {
  const path = join(resolve(options.dataDir), ADMIN_KEY_FILE);
  if (existsSync(path)) {
    options.print(`stratus: the admin key of tenant ${OPERATOR_TENANT} is in ${path}\n`);
    return { path, created: false };
  }
  const { token } = await options.auth.createKey(OPERATOR_TENANT, { name: 'first admin key', role: 'admin' });
  // `wx`: never overwrite a key another start wrote; 0600: the owner only.
  writeFileSync(path, `${token}\n`, { flag: 'wx', mode: 0o600 });
  const base = options.url ?? 'http://127.0.0.1:8080';
  options.print(
    [
      '',
      `stratus: created the admin key of tenant ${OPERATOR_TENANT} (shown this once; kept in ${path}, mode 0600):`,
      '',
      `  ${token}`,
      '',
      'Try it:',
      `  curl -H "Authorization: Bearer ${token}" ${base}/v1/networks`,
      '',
    ].join('\n'),
  );
  return { path, created: true };
}
