// What the CLI tests share: the CLI built from the sources once per file (esbuild, one chunk per
// dynamic import, as fast to start as the compiled dist/), a `stratus` on PATH that runs it, a
// control plane of an api and a worker replica on a fresh PostgreSQL database and a `stratus sim`
// whose fault rules a test sets, and keys.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createAuthService } from '../../src/control/auth/index.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type SimCloud, startSim } from '../helpers/sim-process.js';
import {
  isReady,
  killAllStratus,
  ROOT,
  type StratusProcess,
  spawnStratus,
} from '../helpers/stratus-process.js';

/** The built CLI and a directory to put on PATH that holds a `stratus` running it. */
export interface BuiltCli {
  readonly main: string;
  readonly binDir: string;
  dispose(): void;
}

/**
 * Bundles src/cli/main.ts. The output sits in the repository (a git-ignored `.cli-build-*`) so
 * that its imports of npm packages and of ../package.json resolve as they do for dist/.
 */
export async function buildCli(): Promise<BuiltCli> {
  const outdir = join(ROOT, `.cli-build-${randomUUID().slice(0, 8)}`);
  await build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir,
    logLevel: 'warning',
  });
  const main = join(outdir, 'main.js');
  const binDir = join(outdir, 'bin');
  mkdirSync(binDir);
  writeFileSync(join(binDir, 'stratus'), `#!/bin/sh\nexec "${process.execPath}" "${main}" "$@"\n`);
  chmodSync(join(binDir, 'stratus'), 0o755);
  return { main, binDir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** What a finished CLI run left. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `stratus args…` with exactly `env` (plus PATH), stdin closed or given. */
export function runCli(cli: BuiltCli, args: readonly string[], env: Record<string, string>, stdin?: string) {
  return new Promise<CliRun>((resolve) => {
    const child = spawn(join(cli.binDir, 'stratus'), [...args], {
      env: { PATH: `${cli.binDir}:${process.env.PATH ?? ''}`, ...env },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A control plane for a test file: an api and a worker replica on one fresh database. */
export interface ControlPlane {
  readonly url: string;
  readonly api: StratusProcess;
  readonly worker: StratusProcess;
  readonly db: TestDatabase;
  /** The cloud both replicas use. */
  readonly sim: SimCloud;
  /** Makes a key of `role` in tenant `local`. */
  key(role: 'admin' | 'member' | 'viewer'): Promise<string>;
  stop(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const [db, sim] = await Promise.all([createTestDatabase(), startSim()]);
  const env = { DATABASE_URL: db.url, CLOUD_URL: sim.url };
  // The api replica migrates; the worker, started at the same time, waits for the same lock.
  const api = spawnStratus(['start', '--role', 'api', '--port', '0', '--node-id', 'cli-api'], env);
  const worker = spawnStratus(['start', '--role', 'worker', '--node-id', 'cli-worker'], env);
  const [ready] = await Promise.all([api.waitForLog(isReady, 60_000), worker.waitForLog(isReady, 60_000)]);
  const keysDb = createPgDatabase({ connectionString: db.url, max: 1 });
  const auth = createAuthService({ db: keysDb });
  return {
    url: String(ready.url).replace(/\/$/, ''),
    api,
    worker,
    db,
    sim,
    key: async (role) => (await auth.createKey('local', { name: `cli test ${role}`, role })).token,
    async stop() {
      await auth.close();
      await keysDb.close();
      await killAllStratus();
      await db.drop();
    },
  };
}

/** A fresh HOME and XDG_CONFIG_HOME for profile tests. */
export function freshHome(): { home: string; config: string; dispose(): void } {
  const home = mkdtempSync(join(tmpdir(), 'stratus-cli-home-'));
  const config = join(home, 'config');
  return { home, config, dispose: () => rmSync(home, { recursive: true, force: true }) };
}
