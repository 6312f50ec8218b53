// The drill's own PostgreSQL statements (create and drop the run's database, terminate a
// node's sessions, read the journal and the ledger) on one short-lived connection each. The
// server is shared: when every connection slot is taken (53300 "too many clients", 57P03
// "starting up") the connection is tried again for up to a minute rather than failing the run.

import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

const RETRIED = new Set(['53300', '57P03', 'ECONNREFUSED', 'ECONNRESET']);

/** Runs `fn` on a fresh connection to `url`, closed afterwards. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, application_name: 'stratus-drill' });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !RETRIED.has(code) || Date.now() > deadline) throw err;
      await delay(Math.min(2_000, 100 * 2 ** attempt) * Math.random());
      continue;
    }
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }
}
