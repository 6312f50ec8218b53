// The adapter's transport against a plain HTTP server of the test's own: what a success, an
// error answer, a broken answer, an unreachable simulator and an abort come back as, and
// that calls share kept-alive connections.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isInvalidInputError,
  isStaleFencingTokenError,
  isUnavailableError,
} from '../../core/errors/backend-errors.js';
import { createHttpBackends } from './index.js';

const servers: Server[] = [];

/** A server answering every request with `handle`; its URL and the connections it saw. */
async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const server = createServer((request, response) => {
    request.resume();
    request.once('end', () => handle(request, response));
  });
  servers.push(server);
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, server, connections: () => connections };
}

const json = (response: ServerResponse, status: number, body: unknown, type = 'application/json') => {
  response.writeHead(status, { 'content-type': type });
  response.end(JSON.stringify(body));
};

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
});

describe('HTTP adapter transport', () => {
  it('answers with the result and keeps connections alive across sequential calls', async () => {
    const { url, connections } = await serve((_req, res) => json(res, 200, { result: { items: [] } }));
    const ports = createHttpBackends({ url });
    for (let i = 0; i < 20; i++) await expect(ports.network.listNetworks()).resolves.toEqual({ items: [] });
    // Without keep-alive it would be 20; the pool may open a second while the first is
    // still finishing its answer.
    expect(connections()).toBeLessThanOrEqual(2);
  });

  it('maps problem documents to the port errors they stand for', async () => {
    const problems: [number, unknown][] = [
      [
        409,
        {
          code: 'BACKEND_STALE_FENCING_TOKEN',
          detail: 'old',
          resource: 'instance/i-1',
          presented: 1,
          newest: 2,
        },
      ],
      [400, { code: 'SIM_BAD_REQUEST', detail: 'body.spec.name must be a string' }],
      [503, { detail: 'down' }],
      [500, 'not json at all'],
    ];
    let next = 0;
    const { url } = await serve((_req, res) => {
      const [status, body] = problems[next++]!;
      json(res, status, body, 'application/problem+json');
    });
    const ports = createHttpBackends({ url });
    const call = () => ports.compute.getInstance('i-1').catch((e: unknown) => e);
    const stale = await call();
    expect(isStaleFencingTokenError(stale) && stale).toMatchObject({ presented: 1, newest: 2 });
    const bad = await call();
    expect(isInvalidInputError(bad) && bad.message).toBe('body.spec.name must be a string');
    expect(isUnavailableError(await call())).toBe(true);
    const broken = await call();
    expect(isUnavailableError(broken) && broken.message).toContain('answered 500');
  });

  it('is Unavailable when the simulator cannot be reached or its answer breaks off', async () => {
    const { url, server } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"result":');
      res.destroy();
    });
    const ports = createHttpBackends({ url });
    const broken = await ports.compute.getInstance('i-1').catch((e: unknown) => e);
    expect(isUnavailableError(broken)).toBe(true);
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
    servers.splice(servers.indexOf(server), 1);
    const gone = await ports.compute.getInstance('i-1').catch((e: unknown) => e);
    expect(isUnavailableError(gone) && (gone as Error).message).toBe(`simulator at ${url} unreachable`);
    expect((gone as Error).cause).toBeInstanceOf(Error);
  });

  it('rejects a followed stream with the signal’s reason when it aborts, and the server sees the close', async () => {
    let closed: Promise<unknown> = Promise.resolve();
    const { url } = await serve((_req, res) => {
      closed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      // The second line comes in two writes: a line split across chunks is still one item.
      res.write('{"at":1,"line":"first"}\n{"at":2,"li');
      setImmediate(() => res.write('ne":"second"}\n'));
    });
    const ports = createHttpBackends({ url });
    const controller = new AbortController();
    const lines = await ports.compute.streamLogs('i-1', { follow: true, signal: controller.signal });
    const seen: string[] = [];
    const reason = new Error('caller gave up');
    const read = (async () => {
      for await (const { line } of lines) {
        seen.push(line);
        if (seen.length === 2) controller.abort(reason);
      }
    })().catch((e: unknown) => e);
    expect(await read).toBe(reason);
    expect(seen).toEqual(['first', 'second']);
    await closed;
  });
});
