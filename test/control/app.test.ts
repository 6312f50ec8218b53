// The wiring: a process started as it is in production (embedded PGlite in a data directory,
// role all) serves /v1 for the built-in kinds and reconciles them with its own worker; an api
// process and a worker process over one PostgreSQL database split the same work.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/index.js';
import { type App, startApp } from '../../src/runtime/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const quiet = pino({ level: 'silent' });

// Networks of a tenant may not overlap: each call gets its own range.
let ranges = 0;

async function createNetworkAndWait(api: App, name: string, key: string) {
  const authorization = `Bearer ${key}`;
  const res = await fetch(`${api.url}/v1/networks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ name, spec: { cidr: `10.${42 + ranges++}.0.0/24` } }),
  });
  expect(res.status).toBe(202);
  const { operation } = (await res.json()) as { operation: { id: string } };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const op = (await (
      await fetch(`${api.url}/v1/operations/${operation.id}?wait=2s`, { headers: { authorization } })
    ).json()) as {
      state: string;
      resource: { tenant: string; status: { phase: string } };
    };
    if (op.state !== 'pending' && op.state !== 'running') return op;
    if (Date.now() > deadline) throw new Error(`operation still ${op.state}`);
  }
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

it('the embedded default serves /v1 and reconciles what it accepts', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-control-'));
  const config: Config = { ...loadConfig(), port: 0, dataDir, role: 'all', nodeId: 'embedded-1' };
  let printed = '';
  const print = (text: string) => {
    printed += text;
  };
  const app = await startApp(config, { logger: quiet, print });
  try {
    // The first start makes the admin key, prints it once with a command and keeps it 0600.
    const file = join(dataDir, 'admin-key');
    const key = readFileSync(file, 'utf8').trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(printed).toContain(`curl -H "Authorization: Bearer ${key}" ${app.url}/v1/networks`);
    expect((await fetch(`${app.url}/v1/networks`)).status).toBe(401);
    const op = await createNetworkAndWait(app, 'first', key);
    expect(op).toMatchObject({
      state: 'succeeded',
      resource: { tenant: 'local', status: { phase: 'Ready' } },
    });
    await app.shutdown('test');
    // A later start says where the key is and prints no new one.
    printed = '';
    const again = await startApp(config, { logger: quiet, print });
    try {
      expect(printed).toContain(file);
      expect(printed).not.toContain('stratus_');
      expect(readFileSync(file, 'utf8').trim()).toBe(key);
      const res = await fetch(`${again.url}/v1/networks`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    } finally {
      await again.shutdown('test');
    }
  } finally {
    await app.shutdown('test');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('an api process accepts, a worker process reconciles, over one PostgreSQL database', async () => {
  const base = { ...loadConfig(), port: 0, databaseUrl: t.url };
  const api = await startApp({ ...base, role: 'api', nodeId: 'api-1' } as Config, { logger: quiet });
  const worker = await startApp({ ...base, role: 'worker', nodeId: 'worker-1' } as Config, { logger: quiet });
  try {
    const { token } = await api.auth!.createKey('local', { name: 'test', role: 'member' });
    expect(await createNetworkAndWait(api, 'split', token)).toMatchObject({ state: 'succeeded' });
  } finally {
    await api.shutdown('test');
    await worker.shutdown('test');
  }
});
