// The README's walk-through, run as written: every `sh` block after a `<!-- walkthrough -->`
// mark, in order, in one bash with `set -euo pipefail`, against the embedded default started as
// the quick start gives it (a fresh data directory, its first admin key), from the directory
// that holds `.stratus`, as the README's reader would.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BuiltCli, buildCli } from '../cli/harness.js';
import { isReady, killAllStratus, ROOT, spawnStratus } from '../helpers/stratus-process.js';

/** The walk-through's commands: the `sh` blocks that follow a `<!-- walkthrough -->` line. */
function walkthrough(markdown: string): string[] {
  const blocks: string[] = [];
  const pattern = /<!-- walkthrough -->\n```sh\n([\s\S]*?)\n```/g;
  for (let m = pattern.exec(markdown); m !== null; m = pattern.exec(markdown)) blocks.push(m[1]!);
  return blocks;
}

function runBash(script: string, cwd: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dirs: string[] = [];
let cli: BuiltCli | undefined;
afterAll(async () => {
  cli?.dispose();
  await killAllStratus();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the README', () => {
  it('finds the walk-through, and only marked sh blocks', () => {
    expect(walkthrough('<!-- walkthrough -->\n```sh\necho a\n```\n```sh\necho b\n```')).toEqual(['echo a']);
    expect(walkthrough(readFileSync(join(ROOT, 'README.md'), 'utf8')).length).toBeGreaterThanOrEqual(3);
  });

  it('walks a newcomer from the first start to a deleted cloud, as written', {
    timeout: 240_000,
  }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'stratus-readme-'));
    dirs.push(home);
    const dataDir = join(home, '.stratus');
    const server = spawnStratus(['start', '--port', '0'], { STRATUS_DATA_DIR: dataDir });
    // The walk-through's `stratus` is the CLI built from the sources, on PATH.
    [cli] = await Promise.all([buildCli(), server.waitForLog(isReady, 120_000)]);
    const ready = await server.waitForLog(isReady);
    // The first start printed its admin key once, and kept it for the owner only.
    const key = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
    expect(server.stderr.join('')).toContain(key);
    expect(statSync(join(dataDir, 'admin-key')).mode & 0o777).toBe(0o600);

    const script = walkthrough(readFileSync(join(ROOT, 'README.md'), 'utf8')).join('\n');
    const run = await runBash(script, home, {
      STRATUS_URL: String(ready.url).replace(/\/$/, ''),
      PATH: `${cli.binDir}:${process.env.PATH ?? ''}`,
      XDG_CONFIG_HOME: join(home, 'config'),
    });
    expect(run.stderr, run.stdout).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^web-1 Ready 10\.20\.0\.\d+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^data Ready attached to inst_/));
    expect(lines).toContainEqual(expect.stringMatching(/^www\.demo\.test Ready 10\.20\.0\.\d+$/));
    expect(lines).toContainEqual('web Ready targets: 1');
    expect(lines).toContainEqual(expect.stringMatching(/^\s+\d+ Created load-balancers\/web$/));
    expect(lines).toContain('delete network: succeeded');
    expect(lines).toContain('delete zone: succeeded');
    // The CLI's part: a table of real columns, names for scripts, the system view, the delete.
    expect(lines).toContainEqual(
      expect.stringMatching(/^app-1 +inst_[0-9a-z]{26} +Ready +\d+s +ubuntu-24\.04 +small +net_/),
    );
    expect(lines).toContain('instances/app-1');
    expect(lines).toContainEqual(expect.stringMatching(/^NODE +ROLE +STATE/));
    expect(lines.at(-1)).toBe('networks/cli-demo deleted');

    // Nothing is left behind.
    for (const kind of ['networks', 'instances', 'volumes', 'dns-zones', 'dns-records', 'load-balancers']) {
      const res = await fetch(new URL(`/v1/${kind}`, String(ready.url)), {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(((await res.json()) as { items: unknown[] }).items, kind).toEqual([]);
    }
  });
});
