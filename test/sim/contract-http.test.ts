import { afterAll, beforeAll } from 'vitest';
import { createHttpBackends } from '../../src/backends/http/index.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';
import { portContract } from './port-contract.js';

let sim: StratusProcess;
let url = '';

beforeAll(async () => {
  sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast']);
  const ready = await sim.waitForLog((r) => typeof r.url === 'string');
  url = ready.url as string;
});

afterAll(async () => {
  sim.child.kill('SIGTERM');
  await sim.exited;
});

portContract('stratus sim through the HTTP adapter', () => createHttpBackends({ url, caller: 'contract' }));
