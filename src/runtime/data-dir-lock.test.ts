import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isDataDirInUseError, lockDataDir } from './data-dir-lock.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stratus-lock-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('refuses a second holder while the first is alive, and frees on release', () => {
    const dir = tempDir();
    const release = lockDataDir(dir, process.pid);
    let refused: unknown;
    try {
      lockDataDir(dir, process.pid + 1);
    } catch (err) {
      refused = err;
    }
    expect(isDataDirInUseError(refused)).toBe(true);
    expect((refused as Error).message).toContain(`in use by another stratus process (pid ${process.pid})`);
    release();
    const again = lockDataDir(dir, process.pid + 1);
    again();
  });

  it('takes over a lock file left by a dead process', () => {
    const dir = tempDir();
    // A pid above the kernel's pid_max cannot belong to a live process.
    writeFileSync(join(dir, 'stratus.pid'), '99999999\n');
    const release = lockDataDir(dir, process.pid);
    expect(readFileSync(join(dir, 'stratus.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
