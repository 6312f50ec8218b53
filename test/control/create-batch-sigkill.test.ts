// The group commit of creates under a SIGKILL of the api process on PostgreSQL: creates in
// flight in batches when the process dies are retried with their Idempotency-Keys against a new
// process; each retry gets the stored answer (the bytes the first attempt got, when it got one)
// or a clean first execution, and every name has exactly one resource.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { isReady, type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const CREATES = 300;

describe('group commit of creates through a SIGKILL of the api on pg', () => {
  let db: TestDatabase;
  let api: StratusProcess | undefined;
  let authorization: string;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  /** An admin key of the tenant `local`, once the api has migrated the database. */
  const createKey = async () => {
    const created = spawnStratus(
      ['admin', 'create-key', '--tenant', 'local', '--role', 'admin', '--name', 't'],
      {
        DATABASE_URL: db.url,
      },
    );
    const exit = await created.exited;
    const key = created.logs.map((l) => l.raw).find((l) => typeof l === 'string' && l.startsWith('stratus_'));
    if (exit.code !== 0 || typeof key !== 'string')
      throw new Error(`create-key failed: ${created.stderr.join('')}`);
    authorization = `Bearer ${key}`;
  };
  afterAll(async () => {
    if (api && api.child.exitCode === null && api.child.signalCode === null) {
      api.child.kill('SIGKILL');
      await api.exited;
    }
    await db?.drop();
  });

  const start = async () => {
    api = spawnStratus(['start', '--role', 'api', '--port', '0'], {
      DATABASE_URL: db.url,
      NODE_ID: 'sigkill-api',
      RATE_LIMIT_MAX: '0',
    });
    return (await api.waitForLog(isReady, 120_000)).url as string;
  };
  const send = (url: string, path: string, body: object, key?: string) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(body),
    }).then(async (res) => ({
      status: res.status,
      body: await res.text(),
      replayed: res.headers.get('idempotent-replayed') === 'true',
    }));

  it('retries get the stored answer or a clean first execution, never two resources', async () => {
    let url = await start();
    await createKey();
    const net = await send(url, '/v1/networks', { name: 'net', spec: { cidr: '10.0.0.0/16' } });
    const network = JSON.parse(net.body).resource.id as string;
    const vm = (i: number) => ({ name: `vm-${i}`, spec: { image: 'img', size: 'small', network } });

    let answered = 0;
    let enough!: () => void;
    const someAnswered = new Promise<void>((resolve) => {
      enough = resolve;
    });
    const first = Array.from({ length: CREATES }, (_, i) =>
      send(url, '/v1/instances', vm(i), `k-${i}`).then(
        (a) => {
          if (++answered === 1) enough();
          return a;
        },
        () => undefined,
      ),
    );
    // Killed at the first answer, while the other creates are still queued and in flight in
    // batches (at the twentieth, on a loaded machine, all had been answered once).
    await someAnswered;
    api!.child.kill('SIGKILL');
    await api!.exited;
    const before = await Promise.all(first);
    const lost = before.filter((a) => a === undefined).length;
    expect(lost).toBeGreaterThan(0);

    url = await start();
    const retries = await Promise.all(
      Array.from({ length: CREATES }, (_, i) => send(url, '/v1/instances', vm(i), `k-${i}`)),
    );
    for (const [i, retry] of retries.entries()) {
      expect(retry.status).toBe(202);
      const earlier = before[i];
      if (earlier) {
        expect(earlier.status).toBe(202);
        expect(retry).toEqual({ ...earlier, replayed: true });
      }
    }
    const client = await import('pg').then((pg) => new pg.default.Client({ connectionString: db.url }));
    await client.connect();
    try {
      const names = await client.query<{ name: string; n: string }>(
        `SELECT name, count(*) AS n FROM stratus_resources WHERE kind = 'instances' GROUP BY name`,
      );
      expect(names.rows).toHaveLength(CREATES);
      expect(names.rows.every((r) => Number(r.n) === 1)).toBe(true);
      // Every retry's resource is the one stored: its id is the one the database holds.
      const ids = new Set(
        (
          await client.query<{ id: string }>(`SELECT id FROM stratus_resources WHERE kind = 'instances'`)
        ).rows.map((r) => r.id),
      );
      for (const retry of retries) expect(ids.has(JSON.parse(retry.body).resource.id)).toBe(true);
    } finally {
      await client.end();
    }
  }, 240_000);
});
