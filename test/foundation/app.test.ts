import { type AddressInfo, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/index.js';
import { type App, type ShutdownStep, startApp } from '../../src/runtime/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/services.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const quiet = pino({ level: 'silent' });

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

function config(overrides: Partial<Config>): Config {
  return { ...loadConfig(), port: 0, databaseUrl: t.url, ...overrides };
}

async function readyz(app: App): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${app.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('roles', () => {
  it('api serves HTTP and runs no worker services', async () => {
    const app = await startApp(config({ role: 'api', nodeId: 'api-1' }), { logger: quiet });
    try {
      expect(app.services).toEqual(['node-heartbeat']);
      expect((await readyz(app)).status).toBe(200);
    } finally {
      await app.shutdown('test');
    }
  });

  it('worker runs the worker services and has no listener unless a health port is set', async () => {
    const app = await startApp(config({ role: 'worker', nodeId: 'worker-1' }), { logger: quiet });
    try {
      expect(app.url).toBeUndefined();
      expect(app.server).toBeUndefined();
      expect(app.services).toContain('leader:node-reaper');
      // The leader-guarded reaper runs here: this node holds its term, recorded in the journal.
      await expect
        .poll(async () => {
          const res = await app.stores.db.query(
            `SELECT holder, ended_at FROM stratus_leadership_journal WHERE key = 'node-reaper' ORDER BY epoch DESC LIMIT 1`,
          );
          return res.rows[0];
        })
        .toEqual({ holder: 'worker-1', ended_at: null });
    } finally {
      await app.shutdown('test');
    }
  });

  it('a worker health port answers health, readiness and metrics but no API route', async () => {
    const app = await startApp(config({ role: 'worker', nodeId: 'worker-2', healthPort: 0 }), {
      logger: quiet,
      routes: (f) => {
        f.get('/v1/ping', async () => ({ pong: true }));
      },
    });
    try {
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      expect((await readyz(app)).status).toBe(200);
      expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${app.url}/v1/ping`)).status).toBe(404);
    } finally {
      await app.shutdown('test');
    }
  });

  it('records every node in stratus_nodes and marks it stopped on shutdown', async () => {
    const app = await startApp(config({ role: 'all', nodeId: 'registry-1' }), { logger: quiet });
    const before = await app.stores.db.query(
      'SELECT role, stopped_at FROM stratus_nodes WHERE node_id = $1',
      ['registry-1'],
    );
    expect(before.rows).toEqual([{ role: 'all', stopped_at: null }]);
    await app.shutdown('test');
    const check = await startApp(config({ role: 'api', nodeId: 'registry-check' }), { logger: quiet });
    try {
      const after = await check.stores.db.query<{ stopped_at: Date | null }>(
        'SELECT stopped_at FROM stratus_nodes WHERE node_id = $1',
        ['registry-1'],
      );
      expect(after.rows[0]!.stopped_at).toBeInstanceOf(Date);
    } finally {
      await check.shutdown('test');
    }
  });
});

describe('a start that fails', () => {
  it('refuses a port in use, closes what it opened, and a later start on the same stores works', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(
        startApp(config({ role: 'all', nodeId: 'busy-port', port }), { logger: quiet }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    const app = await startApp(config({ role: 'all', nodeId: 'busy-port', port }), { logger: quiet });
    try {
      expect((await readyz(app)).status).toBe(200);
    } finally {
      await app.shutdown('test');
    }
  });
});

describe('readiness follows the dependencies without a restart', () => {
  it('turns 503 naming the database while PostgreSQL is unreachable, and 200 once it is back', async () => {
    const proxy = await startTcpProxy(t.url);
    const app = await startApp(
      config({ role: 'api', nodeId: 'ready-pg', databaseUrl: proxy.urlFor(t.url) }),
      {
        logger: quiet,
      },
    );
    try {
      expect((await readyz(app)).status).toBe(200);
      // A partition: connections stay open but nothing gets through, and pooled connections are cut.
      proxy.reset();
      proxy.blackhole();
      const down = await readyz(app);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        ready: false,
        status: 'not_ready',
        checks: { database: { ok: false } },
      });
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      proxy.resume();
      await expect.poll(async () => (await readyz(app)).status, { timeout: 15_000, interval: 200 }).toBe(200);
    } finally {
      proxy.resume();
      await app.shutdown('test');
      await proxy.close();
    }
  });

  it('turns 503 naming Redis while Redis is unreachable, never crashing, and 200 once it is back', async () => {
    const proxy = await startTcpProxy(REDIS_URL);
    const app = await startApp(
      config({ role: 'api', nodeId: 'ready-redis', redisUrl: proxy.urlFor(REDIS_URL) }),
      {
        logger: quiet,
      },
    );
    try {
      await expect.poll(async () => (await readyz(app)).status, { timeout: 10_000, interval: 100 }).toBe(200);
      proxy.blackhole();
      await expect
        .poll(async () => (await readyz(app)).body, { timeout: 10_000, interval: 100 })
        .toMatchObject({ ready: false, checks: { redis: { ok: false }, database: { ok: true } } });
      // A connection cut while down: the client reconnects with backoff, never crashing.
      proxy.reset();
      proxy.resume();
      await expect.poll(async () => (await readyz(app)).status, { timeout: 15_000, interval: 200 }).toBe(200);
    } finally {
      proxy.resume();
      await app.shutdown('test');
      await proxy.close();
    }
  });
});

describe('the ready line', () => {
  it('is logged only once /readyz answers 200, not while Redis is still out of reach', async () => {
    const proxy = await startTcpProxy(REDIS_URL);
    proxy.blackhole();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const isReadyLine = (l: Record<string, unknown>) => String(l.msg).startsWith('stratus ready');
    const app = await startApp(
      config({ role: 'api', nodeId: 'ready-line', redisUrl: proxy.urlFor(REDIS_URL) }),
      { logger },
    );
    try {
      expect((await readyz(app)).status).toBe(503);
      expect(lines.filter(isReadyLine)).toEqual([]);
      expect(lines.some((l) => l.msg === 'started, not ready yet: waiting for the dependencies')).toBe(true);
      proxy.resume();
      await expect.poll(() => lines.filter(isReadyLine).length, { timeout: 15_000 }).toBe(1);
      expect((await readyz(app)).status).toBe(200);
    } finally {
      proxy.resume();
      await app.shutdown('test');
      await proxy.close();
    }
  });
});

describe('operator settings', () => {
  it('reach the running components: worker concurrency and bulkheads', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const tuned = loadConfig({
      args: ['--worker-concurrency', '3', '--bulkhead-dns', '4', '--drain-delay-ms', '0'],
      env: { DATABASE_URL: t.url },
    });
    const app = await startApp({ ...tuned, port: 0, nodeId: 'tuned-1' }, { logger });
    try {
      await expect
        .poll(() => lines.find((l) => l.msg === 'worker: started'))
        .toMatchObject({ concurrency: 3 });
      expect(app.backends.health().dns.bulkhead).toMatchObject({ maxConcurrent: 4 });
      expect(app.backends.health().compute.bulkhead).toMatchObject({ maxConcurrent: 20 });
    } finally {
      await app.shutdown('test');
    }
  });
});

describe('graceful shutdown', () => {
  it('turns readiness off, lets in-flight requests finish, then stops services and stores', async () => {
    const steps: ShutdownStep[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    let readyDuringShutdown: Promise<number> | undefined;
    let app: App | undefined;
    app = await startApp(config({ role: 'all', nodeId: 'shutdown-1' }), {
      logger: quiet,
      routes: (f) => {
        f.get('/slow', async () => {
          entered();
          await gate;
          return { done: true };
        });
      },
      onShutdownStep: (s) => {
        steps.push(s);
        if (s === 'readiness-off') {
          readyDuringShutdown = app!.server!.inject('/readyz').then((r) => r.statusCode);
        }
      },
    });
    const slow = fetch(`${app.url}/slow`);
    await inHandler;
    const stopping = app.shutdown('SIGTERM');
    await expect.poll(() => steps).toEqual(['readiness-off']);
    expect(await readyDuringShutdown).toBe(503);
    // The listener no longer takes new connections while the in-flight request is held.
    await expect(fetch(`${app.url}/healthz`)).rejects.toThrow();
    expect(steps).toEqual(['readiness-off']);
    release();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(await stopping).toBe(true);
    expect(steps).toEqual(['readiness-off', 'http-closed', 'services-stopped', 'stores-closed']);
    expect(await app.shutdown('again')).toBe(true);
  });

  it('forces in-flight requests closed at the deadline and reports an unclean stop', async () => {
    const steps: ShutdownStep[] = [];
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    const app = await startApp(config({ role: 'api', nodeId: 'shutdown-2', shutdownTimeoutMs: 300 }), {
      logger: quiet,
      routes: (f) => {
        f.get('/hang', () => {
          entered();
          return new Promise(() => {});
        });
      },
      onShutdownStep: (s) => steps.push(s),
    });
    const hung = fetch(`${app.url}/hang`).catch((err: Error) => err);
    await inHandler;
    expect(await app.shutdown('SIGTERM')).toBe(false);
    expect(await hung).toBeInstanceOf(Error);
    expect(steps).toEqual(['readiness-off', 'http-closed', 'services-stopped', 'stores-closed']);
  });
});

describe('backends', () => {
  it('reaches every backend only through its resilience policies, whose series are exported', async () => {
    const app = await startApp(config({ role: 'all', nodeId: 'backends-1' }), { logger: quiet });
    try {
      const { compute, policies } = app.backends;
      const signal = new AbortController().signal;
      const made = await compute.createInstance(
        { name: 'web-1', image: 'debian-12', size: 'small' },
        { clientToken: 'job-1', signal },
      );
      expect(made.name).toBe('web-1');
      policies.compute.breaker.isolate();
      await expect(compute.getInstance(made.id, { signal })).rejects.toMatchObject({
        code: 'ERR_CIRCUIT_OPEN',
      });
      expect(app.backends.health().compute.breaker.state).toBe('isolated');
      // Another backend is not affected by the compute breaker.
      await expect(app.backends.network.ping({ signal })).resolves.toBeUndefined();
      const text = await (await fetch(`${app.url}/metrics`)).text();
      expect(text).toMatch(/stratus_breaker_transitions_total\{[^}]*compute[^}]*\} 1/);
    } finally {
      await app.shutdown('test');
    }
  });
});

describe('metrics', () => {
  it('exposes process metrics and the request duration histogram by route and status', async () => {
    const app = await startApp(config({ role: 'api', nodeId: 'metrics-1' }), { logger: quiet });
    try {
      await fetch(`${app.url}/healthz`);
      await fetch(`${app.url}/nowhere`);
      const text = await (await fetch(`${app.url}/metrics`)).text();
      expect(text).toContain('process_cpu_user_seconds_total{stratus_node="metrics-1"}');
      // No series carries a `node` label: that name belongs to the machine in Kubernetes setups.
      expect(text).not.toMatch(/[{,]node="/);
      expect(text).toMatch(
        /http_request_duration_seconds_count\{stratus_node="metrics-1",method="GET",route="\/healthz",status_code="200"\} 1/,
      );
      expect(text).toMatch(
        /http_request_duration_seconds_count\{stratus_node="metrics-1",method="GET",route="unmatched",status_code="404"\} 1/,
      );
    } finally {
      await app.shutdown('test');
    }
  });
});
