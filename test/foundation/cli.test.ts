import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { settingsTable } from '../../src/config/index.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/services.js';
import { isReady, killAllStratus, spawnStratus } from '../helpers/stratus-process.js';

/** Resident memory of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return Number(kb) / 1024;
}

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stratus-cli-'));
  dirs.push(d);
  return d;
}
afterEach(() => killAllStratus());
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('stratus command line', () => {
  it('prints help and version', async () => {
    const help = spawnStratus(['--help']);
    expect((await help.exited).code).toBe(0);
    const version = spawnStratus(['--version']);
    expect((await version.exited).code).toBe(0);
    expect(version.logs.map((l) => l.raw ?? l)).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
    const text = help.logs.map((l) => l.raw).join('\n');
    expect(text).toContain('--database-url');
    // Every setting of the table, each with its default (the Redis prefix's was missing).
    for (const line of settingsTable()) {
      expect(text).toContain(line.flag);
      expect(text).toContain(line.env);
    }
    expect(text).toMatch(/--redis-prefix[^\n]*\n[^\n]*default stratus:/);
    expect(text).toMatch(/--drain-delay-ms[^\n]*\n[^\n]*default 5000 for api and all on PostgreSQL, else 0/);
  });

  it('exits 2 naming the setting, the value and the allowed roles', async () => {
    const p = spawnStratus(['start', '--role', 'boss']);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr.join('')).toBe('stratus: invalid --role: "boss" is not one of api, worker, all\n');
    const fromEnv = spawnStratus(['start'], { PORT: 'eighty' });
    expect((await fromEnv.exited).code).toBe(2);
    expect(fromEnv.stderr.join('')).toContain(
      'invalid PORT (environment): "eighty" is not an integer from 0 to 65535',
    );
    const unknown = spawnStratus(['launch']);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr.join('')).toContain('unknown command "launch"');
  });
});

describe('embedded default', () => {
  it('starts ready on PGlite with no setup, refuses a second start on the same data dir, stops cleanly', async () => {
    const dir = dataDir();
    const first = spawnStratus(['start', '--port', '0', '--data-dir', dir]);
    const ready = await first.waitForLog(isReady, 150_000);
    expect(ready.msg).toContain('embedded PostgreSQL (PGlite)');
    expect(ready.node).toEqual(expect.any(String));
    expect(ready.role).toBe('all');
    const url = ready.url as string;
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    // The first start created the data directory in a short-lived child: initdb in the process
    // itself left it at 835-852 MB for life. The goal is < 350 MB; this one runs under tsx, which
    // holds the transpiled sources too (358 MB seen once on a loaded machine with 14 kinds and 12
    // controllers): bounded at 375 here.
    expect(rssMb(first.child.pid!)).toBeLessThan(375);

    const second = spawnStratus(['start', '--port', '0', '--data-dir', dir]);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr.join('')).toContain(`in use by another stratus process (pid ${first.child.pid})`);
    // The refused start did not disturb the first.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    // Every log line names its node and role.
    expect(first.logs.filter((l) => typeof l.node !== 'string' || l.role !== 'all')).toEqual([]);
    const steps = first.logs.filter((l) => typeof l.step === 'string').map((l) => l.step);
    expect(steps).toEqual(['readiness-off', 'http-closed', 'services-stopped', 'stores-closed']);

    // The data survives a restart and the directory is free again.
    const again = spawnStratus(['start', '--port', '0', '--data-dir', dir]);
    await again.waitForLog(isReady, 150_000);
    expect(again.logs.some((l) => l.msg === 'applied migrations')).toBe(false);
    again.child.kill('SIGINT');
    expect((await again.exited).code).toBe(0);
    // Two starts, the first with initdb: ~25 s on a two-core machine, minutes when it is loaded.
  }, 300_000);

  it('exits at once on a second signal while the first shutdown waits for a request', async () => {
    const p = spawnStratus(['start', '--port', '0', '--data-dir', dataDir()]);
    const ready = await p.waitForLog(isReady, 150_000);
    const port = Number(new URL(ready.url as string).port);
    // A request whose headers never complete keeps the graceful shutdown waiting.
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    try {
      p.child.kill('SIGTERM');
      await p.waitForLog((l) => l.step === 'readiness-off');
      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 143, signal: null });
      expect(p.logs.some((l) => l.msg === 'second signal: exiting at once')).toBe(true);
    } finally {
      socket.destroy();
    }
  }, 200_000);
});

describe('replicas on PostgreSQL and Redis', () => {
  it('three replicas started together on a fresh database migrate once and all report ready', async () => {
    const t = await createTestDatabase();
    try {
      const env = { DATABASE_URL: t.url, REDIS_URL };
      const roles = ['api', 'worker', 'all'] as const;
      const replicas = roles.map((role, i) =>
        spawnStratus(
          ['start', '--role', role, '--port', '0', '--health-port', '0', '--node-id', `replica-${i}`],
          env,
        ),
      );
      const ready = await Promise.all(replicas.map((r) => r.waitForLog(isReady, 60_000)));
      for (const r of ready) {
        const res = await fetch(`${r.url as string}/readyz`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ checks: { database: { ok: true }, redis: { ok: true } } });
      }
      const appliers = replicas.filter((r) => r.logs.some((l) => l.msg === 'applied migrations'));
      expect(appliers).toHaveLength(1);
      const client = new pg.Client({ connectionString: t.url });
      await client.connect();
      try {
        const rows = await client.query('SELECT version FROM stratus_migrations ORDER BY version');
        expect(rows.rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
        const nodes = await client.query('SELECT node_id, role FROM stratus_nodes ORDER BY node_id');
        expect(nodes.rows).toEqual(roles.map((role, i) => ({ node_id: `replica-${i}`, role })));
      } finally {
        await client.end();
      }
      for (const r of replicas) r.child.kill('SIGTERM');
      const exits = await Promise.all(replicas.map((r) => r.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    } finally {
      await killAllStratus();
      await t.drop();
    }
  });

  it('stratus migrate applies the migrations and exits', async () => {
    const t = await createTestDatabase();
    try {
      const p = spawnStratus(['migrate', '--database-url', t.url]);
      expect((await p.exited).code).toBe(0);
      const again = spawnStratus(['migrate', '--database-url', t.url]);
      expect((await again.exited).code).toBe(0);
      expect(again.logs.some((l) => l.msg === 'no migration to apply')).toBe(true);
    } finally {
      await t.drop();
    }
  });
});
