// The layer checker's rules for the simulator and its adapter, fed trees that break them.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LAYERS_SCRIPT, layerChecker } from '../helpers/layers.js';

const check = layerChecker();

describe('check-layers: src/sim and src/backends/http', () => {
  it('passes the repository and a tree that keeps the rules', () => {
    expect(spawnSync(process.execPath, [LAYERS_SCRIPT], { encoding: 'utf8' }).status).toBe(0);
    const clean = check({
      'src/sim/a.ts':
        "import { x } from '../core/x.js';\nimport { y } from '../ha/y.js';\nimport f from 'fastify';\nimport { z } from 'node:fs';\n",
      'src/backends/http/a.ts':
        "import { WIRE } from '../../sim/wire/operations.js';\nimport { Pool } from 'undici';\n",
    });
    expect(clean).toEqual({ status: 0, stderr: '' });
  });

  it.each([
    ['src/sim/a.ts', "import { a } from '../runtime/app.js';\n", 'src/sim may import only'],
    ['src/sim/a.ts', "import { a } from '../cli/sim.js';\n", 'src/sim may import only'],
    ['src/sim/a.ts', "import { a } from '../backends/index.js';\n", 'src/sim may import only'],
    ['src/sim/a.ts', "import pg from 'pg';\n", 'src/sim may import only fastify, prom-client of npm'],
    [
      'src/backends/http/a.ts',
      "import { a } from '../../sim/index.js';\n",
      'src/backends/http may import only',
    ],
    [
      'src/backends/http/a.ts',
      "import { Agent } from 'node-fetch';\n",
      'src/backends/http may import only undici, @opentelemetry/api of npm',
    ],
  ])('refuses %s importing %j', (path, text, message) => {
    const result = check({ [path]: text });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
