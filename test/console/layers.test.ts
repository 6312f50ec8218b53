// The layer checker's rule for the console: browser code that reaches the server's modules, or
// an npm package other than Preact, is refused, in .tsx files as in .ts ones.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'check-layers.mjs');
const trees: string[] = [];

function check(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'layers-console-'));
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

describe('check-layers: src/console', () => {
  it('passes a console that imports only itself and Preact', () => {
    const clean = check({
      'src/console/app/main.tsx': "import { render } from 'preact';\nimport { api } from './api.js';\n",
      'src/console/vite.config.ts': "import { defineConfig } from 'vite';\n",
    });
    expect(clean).toEqual({ status: 0, stderr: '' });
  });

  it.each([
    [
      'src/console/app/a.tsx',
      "import { Phase } from '../../api/openapi/schemas.js';\n",
      'src/console may import only src/console',
    ],
    [
      'src/console/app/a.ts',
      "import { KindRegistry } from '../../core/resources/registry.js';\n",
      'src/console may import only src/console',
    ],
    [
      'src/console/app/a.tsx',
      "import React from 'react';\n",
      'src/console may import only preact, vite of npm',
    ],
  ])('refuses %s importing %j', (path, text, message) => {
    const result = check({ [path]: text });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
