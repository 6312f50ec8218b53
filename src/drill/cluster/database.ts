// A fresh database per run, on the server of the URL given: CREATE DATABASE through that URL,
// and DROP DATABASE ... WITH (FORCE) at the end (unless kept), so replicas still connected
// after a crash cannot keep it alive.

import { withClient } from './pg-client.js';

/** `url` with its database replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function admin(url: string, statement: string): Promise<void> {
  await withClient(url, (client) => client.query(statement));
}

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!NAME.test(name)) throw new RangeError(`invalid database name ${JSON.stringify(name)}`);
  await admin(adminUrl, `CREATE DATABASE "${name}"`);
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!NAME.test(name)) throw new RangeError(`invalid database name ${JSON.stringify(name)}`);
  await admin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
