// The layer checker's rule for the client commands, fed trees that break it: the client talks to
// a server over HTTP and reads the kind registry, nothing of the server itself.

import { expect, it } from 'vitest';
import { layerChecker } from '../helpers/layers.js';

const check = layerChecker();

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
