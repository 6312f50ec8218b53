import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { lazyRequestLogger } from './request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('lazyRequestLogger', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('logs with the request id when a request logs, and makes no child when it does not', async () => {
    const { lines, logger } = capture();
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof logger.child>) => {
      children++;
      return child(...args);
    }) as typeof logger.child;
    const app = Fastify({
      loggerInstance: logger,
      disableRequestLogging: true,
      childLoggerFactory: lazyRequestLogger,
    });
    close = () => app.close();
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/loud', async (request) => {
      request.log.warn({ what: 'x' }, 'something to say');
      return { ok: true };
    });
    await app.ready();
    // Fastify's own children of the instance are made by now.
    children = 0;
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect(children).toBe(0);
    const loud = await app.inject('/loud');
    expect(loud.statusCode).toBe(200);
    expect(children).toBe(1);
    const line = lines.find((l) => l.msg === 'something to say');
    expect(line).toMatchObject({ level: 40, what: 'x', reqId: expect.stringMatching(/^req-/) });
  });
});
