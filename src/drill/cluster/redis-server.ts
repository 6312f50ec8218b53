// The drill's own Redis: a `redis-server` on a free loopback port with nothing saved
// (`--save ''`, no AOF), so FLUSHALL and a restart lose every key, as a failed Redis would.
// The machine's shared Redis is never flushed or restarted: a drill given a Redis URL runs
// the data-loss faults on its own key prefix only (see faults/redis.ts).

import { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type Child, spawnChild } from './child.js';

/** Answers PING with PONG within the deadline, or throws. */
export async function waitForRedis(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pings(port)) return;
    if (Date.now() > deadline)
      throw new Error(`redis on port ${port} did not answer PING within ${timeoutMs} ms`);
    await delay(50);
  }
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString('utf8').startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/** Starts `redis-server` on `port`, with its working directory and log in `dir`. */
export async function startRedisServer(port: number, dir: string, logFile: string): Promise<Child> {
  const child = spawnChild({
    name: 'redis',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    env: {},
    logFile,
  });
  try {
    await Promise.race([
      waitForRedis(port, 15_000),
      child.exited.then((exit) => {
        throw new Error(`redis-server ended at start (${JSON.stringify(exit)}; see ${logFile})`);
      }),
    ]);
  } catch (err) {
    child.signal('SIGKILL');
    throw err;
  }
  return child;
}
