import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from './pglite.js';
import { initDataDirInChild, isInitialisedDataDir } from './pglite-init.js';

const root = mkdtempSync(join(tmpdir(), 'stratus-pglite-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('embedded data directory', () => {
  it('is created by a child process, in place at once, and left alone once it exists', async () => {
    const dir = join(root, 'pgdata');
    await initDataDirInChild(dir);
    expect(isInitialisedDataDir(dir)).toBe(true);
    // Built beside the directory and renamed in: no staging directory is left behind.
    expect(readdirSync(root)).toEqual(['pgdata']);
    const made = statSync(join(dir, 'PG_VERSION')).mtimeMs;
    await initDataDirInChild(dir);
    expect(statSync(join(dir, 'PG_VERSION')).mtimeMs).toBe(made);

    const db = await createPgliteDatabase(dir);
    try {
      expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows).toEqual([
        { shared_buffers: '16MB' },
      ]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('replaces a directory a crashed first start left without a cluster', async () => {
    const dir = join(root, 'half');
    // Files but no PG_VERSION: what a SIGKILL during an initdb in place would leave.
    mkdirSync(join(dir, 'base'), { recursive: true });
    writeFileSync(join(dir, 'base', 'partial'), 'x');
    await initDataDirInChild(dir);
    expect(isInitialisedDataDir(dir)).toBe(true);
    expect(readdirSync(join(dir, 'base'))).not.toContain('partial');
  }, 120_000);
});
