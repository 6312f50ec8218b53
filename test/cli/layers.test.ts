// The layer checker's rule for the client commands, fed trees that break it: the client talks to
// a server over HTTP and reads the kind registry, nothing of the server itself.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'check-layers.mjs');
const trees: string[] = [];

function check(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'layers-'));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

it('lets src/cli/client import itself, src/core, src/kinds and yaml', () => {
  const clean = check({
    'src/cli/client/a.ts':
      "import { b } from './b.js';\nimport { k } from '../../kinds/index.js';\nimport type { R } from '../../core/resources/resource.js';\nimport { parse } from 'yaml';\n",
  });
  expect(clean).toEqual({ status: 0, stderr: '' });
});

it.each([
  ["import { x } from '../../api/problem.js';\n", 'src/cli/client may import only'],
  ["import { x } from '../../control/service.js';\n", 'src/cli/client may import only'],
  ["import { x } from '../main.js';\n", 'src/cli/client may import only'],
  ["import pg from 'pg';\n", 'src/cli/client may import only yaml of npm'],
])('refuses src/cli/client importing %j', (text, message) => {
  const result = check({ 'src/cli/client/a.ts': text });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(message);
});
