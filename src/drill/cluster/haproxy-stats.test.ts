// HAProxy's own view of its servers, from a real HAProxy (the Debian package) in front of two
// tiny servers whose /readyz the test turns on and off: the stats CSV names each server's
// status, and a server ready again is UP only after HAProxy's passing checks.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { until } from '../../../test/helpers/poll.js';
import type { Child } from './child.js';
import { freePort } from './free-port.js';
import { startHaproxy } from './haproxy.js';
import { haproxyStats, isServing, parseServerStates, untilServers } from './haproxy-stats.js';

const dir = mkdtempSync(join(tmpdir(), 'stratus-haproxy-stats-'));
const servers: Server[] = [];
let haproxy: Child | undefined;

afterAll(async () => {
  await haproxy?.stop(5_000);
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A server whose /readyz answers 200 while `ready.value`, 503 otherwise; any other path 200. */
async function backend(ready: { value: boolean }): Promise<number> {
  const port = await freePort();
  const server = createServer((req, res) => {
    res.statusCode = req.url !== '/readyz' || ready.value ? 200 : 503;
    res.end(req.url === '/readyz' ? '' : `backend ${port}`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return port;
}

it('reads each api server UP or DOWN as HAProxy counts it, and sees one come back UP', {
  timeout: 30_000,
}, async () => {
  const a = { value: true };
  const b = { value: false };
  const [portA, portB, port, statsPort] = [
    await backend(a),
    await backend(b),
    await freePort(),
    await freePort(),
  ];
  haproxy = await startHaproxy({
    port,
    statsPort,
    servers: [
      { name: 'api-1', port: portA },
      { name: 'api-2', port: portB },
    ],
    configFile: join(dir, 'haproxy.cfg'),
    logFile: join(dir, 'haproxy.log'),
  });
  const view = haproxyStats(`http://127.0.0.1:${statsPort}/stats`);
  const settled = await untilServers(
    view,
    (s) => s.get('api-1') === 'UP' && s.get('api-2') === 'DOWN',
    10_000,
  );
  expect(settled, JSON.stringify([...(await view.serverStates())])).toBeDefined();
  expect([...(await view.serverStates()).keys()].sort()).toEqual(['api-1', 'api-2']);

  b.value = true;
  // Ready at once, but UP only after 2 passing checks 500 ms apart: not at the first look.
  expect(isServing((await view.serverStates()).get('api-2'))).toBe(false);
  await until(async () => (await view.serverStates()).get('api-2') === 'UP', 10_000, 'api-2 UP in HAProxy');

  // Both checks failing (a starved machine): the unchecked fallbacks still carry requests to
  // the replicas, rather than HAProxy answering 503 for everyone.
  a.value = false;
  b.value = false;
  await until(
    async () => [...(await view.serverStates()).values()].every((s) => s.startsWith('DOWN')),
    10_000,
    'both api servers DOWN in HAProxy',
  );
  const answer = await fetch(`http://127.0.0.1:${port}/v1/anything`);
  expect(answer.status).toBe(200);
  expect(await answer.text()).toMatch(/^backend \d+$/);
});

it('refuses a page that is not a stats CSV, and keeps only the servers of the api backend', () => {
  expect(() => parseServerStates('<html>oops</html>')).toThrow(/not a HAProxy stats CSV/);
  const csv = [
    '# pxname,svname,qcur,status,weight',
    'api,FRONTEND,,OPEN,',
    'apis,api-1,0,UP,1',
    'apis,api-2,0,DOWN 1/2,1',
    'apis,BACKEND,0,UP,1',
    'stats,FRONTEND,,OPEN,',
  ].join('\n');
  expect([...parseServerStates(csv)]).toEqual([
    ['api-1', 'UP'],
    ['api-2', 'DOWN 1/2'],
  ]);
  expect(isServing('UP 1/2')).toBe(true);
  expect(isServing('DOWN 1/2')).toBe(false);
  expect(isServing(undefined)).toBe(false);
});
