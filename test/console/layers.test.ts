// The layer checker's rule for the console: browser code that reaches the server's modules, or
// an npm package other than Preact, is refused, in .tsx files as in .ts ones.

import { describe, expect, it } from 'vitest';
import { layerChecker } from '../helpers/layers.js';

const check = layerChecker();

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
