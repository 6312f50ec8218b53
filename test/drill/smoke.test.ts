// The CI smoke drill, as an operator runs it: `stratus drill run api-crash leader-crash
// worker-crash redis-data-loss --duration 60s --rate 20` as a child process, on the shared
// PostgreSQL (a fresh database of its own) and its own redis-server, with the checked-in gates
// (drills/gates.json). It must exit 0 — every guarantee held, every gate passed — and leave the
// three files of a run and its report; every logical request must have completed ok after the
// client's retries (G5 behind HAProxy), and faults.json must hold the four faults, each over.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { FaultRecord, HistoryEvent } from '../../src/drill/evidence.js';
import { PG_URL } from '../helpers/services.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const GATES = fileURLToPath(new URL('../../drills/gates.json', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'stratus-drill-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

it('runs the smoke drill: exit 0 with the gates, every request ok, the four faults recorded', {
  timeout: 180_000,
}, async () => {
  const started = Date.now();
  const args = [
    'api-crash',
    'leader-crash',
    'worker-crash',
    'redis-data-loss',
    '--duration',
    '60s',
    '--rate',
    '20',
    '--gate',
    GATES,
  ];
  const drill = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      'drill',
      'run',
      ...args,
      '--out',
      out,
      '--database-url',
      PG_URL,
      '--settle',
      '60s',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    },
  );
  let stderr = '';
  drill.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => drill.once('exit', resolve));
  expect(code, stderr).toBe(0);

  for (const file of [
    'history.ndjson',
    'faults.json',
    'evidence.json',
    'report.json',
    'report.md',
    'timeline.svg',
  ])
    expect(existsSync(join(out, file)), file).toBe(true);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    gates?: Array<{ status: string; message: string }>;
  };
  expect(report.gates?.length ?? 0).toBeGreaterThan(0);
  expect(report.gates?.filter((g) => g.status === 'missed').map((g) => g.message)).toEqual([]);

  const history = readFileSync(join(out, 'history.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as HistoryEvent);
  const invoked = history.filter((e) => e.type === 'invoke').map((e) => e.req);
  const completions = new Map(history.flatMap((e) => (e.type === 'complete' ? [[e.req, e] as const] : [])));
  // 20 requests/s for 60 s, none shed on this machine's share of it.
  expect(invoked.length).toBeGreaterThan(1_000);
  const notOk = invoked.filter((req) => completions.get(req)?.outcome !== 'ok');
  expect(notOk.map((req) => completions.get(req) ?? { req, never: 'completed' }).slice(0, 10)).toEqual([]);

  const faults = JSON.parse(readFileSync(join(out, 'faults.json'), 'utf8')) as FaultRecord[];
  expect(faults.map((f) => [f.scenario, f.action]).sort()).toEqual([
    ['api-crash', 'kill'],
    ['leader-crash', 'kill'],
    ['redis-data-loss', 'redis-flushall'],
    ['worker-crash', 'kill'],
  ]);
  expect(faults.every((f) => f.endT >= f.startT)).toBe(true);
  expect(faults.find((f) => f.scenario === 'leader-crash')?.leaderKey).toBe('outbox-sweeper');
  console.log(`smoke drill: ${invoked.length} requests, ${faults.length} faults, ${Date.now() - started} ms`);
});
