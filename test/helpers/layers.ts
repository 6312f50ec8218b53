// Runs the layer checker (scripts/check-layers.mjs) on small trees a test writes, so each rule
// can be fed trees that keep it and trees that break it. The trees go once each test is over.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

/** The checker script. */
export const LAYERS_SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'check-layers.mjs');

/** A function that runs the checker on a tree holding `files` (path → source). */
export function layerChecker(): (files: Record<string, string>) => { status: number | null; stderr: string } {
  const trees: string[] = [];
  afterEach(() => {
    for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  return (files) => {
    const root = mkdtempSync(join(tmpdir(), 'layers-'));
    trees.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const run = spawnSync(process.execPath, [LAYERS_SCRIPT, root], { encoding: 'utf8' });
    return { status: run.status, stderr: run.stderr };
  };
}
