// A drill that crashes leaves nothing running: its watchdog sees it gone and kills every
// process state.json lists (the redis-server, the sim, the replicas, HAProxy), then drops the
// run's database. The drill here is SIGKILLed, so it cleans nothing itself.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { isSameProcess, readState } from '../../src/drill/cluster/state-file.js';
import { until } from '../helpers/poll.js';
import { PG_URL } from '../helpers/services.js';

const HOLD = fileURLToPath(new URL('./hold-cluster.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'stratus-drill-cleanup-'));
const runId = `cleanup_${Math.random().toString(36).slice(2, 10)}`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

it('kills every process of a SIGKILLed drill and drops its database', { timeout: 150_000 }, async () => {
  const drill = spawn(process.execPath, ['--import', 'tsx', HOLD, dir, PG_URL, runId], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => drill.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    drill.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('started')) resolve();
    });
    void exited.then(() => reject(new Error('the drill ended before its cluster was up')));
  });
  const state = readState(join(dir, 'state.json'));
  const names = state?.processes.map((p) => p.name).sort();
  expect(names).toEqual(['api-1', 'haproxy', 'redis', 'sim', 'worker-1']);
  expect(state?.processes.every(isSameProcess)).toBe(true);
  expect(await databaseExists(`stratus_drill_${runId}`)).toBe(true);

  drill.kill('SIGKILL');
  await exited;
  await until(() => state!.processes.every((p) => !isSameProcess(p)), 10_000, "the drill's processes to end");
  await until(
    async () => !(await databaseExists(`stratus_drill_${runId}`)),
    10_000,
    'the database to be dropped',
  );
});
