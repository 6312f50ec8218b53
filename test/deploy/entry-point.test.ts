// The shipped entry point as the image runs it: the files the Dockerfile's build stage copies,
// built by its `npm run build` in a temporary directory, then `node bin/stratus.js` from there:
// --version, a replica started from the build, and client commands against that replica.

import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { isReady, killAllStratus, ROOT, spawnCommand } from '../helpers/stratus-process.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The build stage of the Dockerfile: the sources it copies and the build command it runs. */
function buildStage(): { sources: string[]; build: string } {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim());
  const stage = lines.slice(
    lines.findIndex((l) => / AS build$/.test(l)),
    lines.findLastIndex((l) => l.startsWith('FROM ')),
  );
  const sources = stage
    .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  const run = stage.find((l) => l.startsWith('RUN ') && l.includes('npm run build'));
  if (run === undefined) throw new Error('the Dockerfile has no RUN npm run build');
  // `npm prune` after it drops the development dependencies of the image's own node_modules;
  // here node_modules is the repository's, so only the build runs.
  return { sources, build: /npm run build/.exec(run)![0] };
}

/** Runs `command args…` in `cwd` with exactly PATH, HOME and `env`, stdin closed. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return new Promise<Run>((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the built image entry point (node bin/stratus.js over dist/)', () => {
  const app = mkdtempSync(join(tmpdir(), 'stratus-image-'));
  let built: Run & { ms: number };
  let database: TestDatabase;
  let url: string;
  const stratus = (args: string[], env: Record<string, string> = {}) =>
    new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        ['bin/stratus.js', ...args],
        { cwd: app, env: { PATH: process.env.PATH ?? '', HOME: app, ...env } },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    const { sources, build } = buildStage();
    for (const source of sources) cpSync(join(ROOT, source), join(app, source), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
    const started = Date.now();
    const [result, db] = await Promise.all([run('sh', ['-c', build], app), createTestDatabase()]);
    built = { ...result, ms: Date.now() - started };
    database = db;
    if (built.code !== 0) return;
    // The image's environment, its entry point, one replica of every role.
    const replica = spawnCommand(
      process.execPath,
      ['bin/stratus.js', 'start', '--port', '0', '--node-id', 'image-1'],
      { NODE_ENV: 'production', DATABASE_URL: database.url, STRATUS_DATA_DIR: join(app, 'data') },
      app,
    );
    url = String((await replica.waitForLog(isReady, 60_000)).url).replace(/\/$/, '');
  }, 240_000);

  afterAll(async () => {
    await killAllStratus();
    await database?.drop();
    rmSync(app, { recursive: true, force: true });
  });

  it('builds the way the Dockerfile builds it', () => {
    expect(built.code, `${built.stdout}${built.stderr}`).toBe(0);
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'dist/console/index.html'))).toBe(true);
    // The build's time, for whoever wonders why this file is slow (about 19 s on 2 idle cores).
    console.info(`npm run build took ${(built.ms / 1000).toFixed(1)} s`);
  });

  it('answers --version and --help', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const [v, help] = await Promise.all([stratus(['--version']), stratus(['--help'])]);
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('stratus start [settings]');
    expect(help.stdout).toContain('stratus <kind> list|get|create|update|delete|<action>');
  });

  it('serves a client: a key made by its admin command, a network created and listed', {
    timeout: 60_000,
  }, async () => {
    expect(url, 'the replica started from the build').toBeDefined();
    const keyRun = await stratus(['admin', 'create-key', '--tenant', 'local', '--role', 'admin'], {
      DATABASE_URL: database.url,
    });
    expect(keyRun.code, keyRun.stderr).toBe(0);
    const key = keyRun.stdout.trim();
    expect(key).toMatch(/^stratus_\S+$/);
    const env = { STRATUS_URL: url, STRATUS_API_KEY: key };
    const created = await stratus(
      ['networks', 'create', 'image-net', '--set', 'cidr=10.50.0.0/24', '--wait'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('create networks/image-net: succeeded');
    expect(await stratus(['networks', 'list', '-o', 'name'], env)).toMatchObject({
      code: 0,
      stdout: 'networks/image-net\n',
    });
  });
});
