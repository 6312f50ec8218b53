import { createServer, type Server, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** Reads from `socket` until `text` has arrived in full. */
function receive(socket: Socket, text: string): Promise<void> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.includes(text)) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
}

describe('fault-injecting TCP proxy', () => {
  let echo: Server;
  let proxy: TcpProxy;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    echo = createServer((s) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const address = echo.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    proxy = await startTcpProxy(`127.0.0.1:${address.port}`);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await proxy.close();
    await new Promise((r) => echo.close(r));
  });

  const connect = async () => {
    const s = new Socket();
    sockets.push(s);
    await new Promise<void>((r) => s.connect(proxy.port, '127.0.0.1', () => r()));
    return s;
  };

  it('forwards, holds everything while blackholed without closing, and delivers it on resume', async () => {
    const s = await connect();
    s.write('one');
    await receive(s, 'one');

    proxy.blackhole();
    let received = '';
    const onData = (c: Buffer) => {
      received += c.toString();
    };
    s.on('data', onData);
    s.write('two');
    // A second connection made during the blackhole is accepted but silent too.
    const late = await connect();
    late.write('three');
    // Prove silence across a full round trip of the echo server: a direct connection echoes
    // in well under this window.
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toBe('');
    expect(s.destroyed).toBe(false);
    expect(proxy.connections).toBe(2);

    const both = Promise.all([receive(s, 'two'), receive(late, 'three')]);
    proxy.resume();
    await both;
    s.off('data', onData);
  });

  it('resets every connection on reset', async () => {
    const s = await connect();
    const closed = new Promise<Error | undefined>((resolve) => {
      s.once('error', (err) => resolve(err));
      s.once('close', () => resolve(undefined));
    });
    proxy.reset();
    const err = await closed;
    expect(err === undefined || (err as NodeJS.ErrnoException).code === 'ECONNRESET').toBe(true);
    expect(proxy.connections).toBe(0);
    // The proxy still accepts new connections after a reset.
    const again = await connect();
    again.write('four');
    await receive(again, 'four');
  });
});
