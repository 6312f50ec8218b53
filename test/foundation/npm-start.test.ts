import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isReady, killAllStratus, spawnCommand } from '../helpers/stratus-process.js';

const dirs: string[] = [];
/** Server pids seen: one npm left behind would hold its port and directory past the test. */
const servers: number[] = [];
afterEach(async () => {
  await killAllStratus();
  for (const pid of servers.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** `npm start` as the README gives it, on its own data dir and a free port. */
async function npmStart() {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-npm-'));
  dirs.push(dir);
  const p = spawnCommand('npm', ['start', '--', '--port', '0'], { STRATUS_DATA_DIR: dir });
  const ready = await p.waitForLog(isReady, 180_000);
  return { p, dir, port: Number(new URL(ready.url as string).port) };
}

describe('npm start', () => {
  it('builds only when the build is stale, and a SIGTERM to npm alone stops the server and frees port and lock', async () => {
    // The first start builds if dist/ is missing or stale; the second finds it current.
    const first = await npmStart();
    const firstPid = Number(readFileSync(join(first.dir, 'stratus.pid'), 'utf8').trim());
    servers.push(firstPid);
    first.p.child.kill('SIGTERM');
    await first.p.exited;
    await expect.poll(() => alive(firstPid), { timeout: 15_000 }).toBe(false);

    const { p, dir, port } = await npmStart();
    expect(p.stderr.join('')).not.toContain('building');
    const lock = join(dir, 'stratus.pid');
    const serverPid = Number(readFileSync(lock, 'utf8').trim());
    expect(serverPid).toBeGreaterThan(0);
    servers.push(serverPid);
    expect(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status)).toBe(200);

    // As a supervisor does: the signal goes to npm's pid only, not to its process group.
    p.child.kill('SIGTERM');
    await p.exited;
    await expect.poll(() => alive(serverPid), { timeout: 15_000 }).toBe(false);
    expect(await refused(port)).toBe(true);
    expect(() => readFileSync(lock)).toThrow(/ENOENT/);
    expect(p.logs.some((l) => l.msg === 'stopped' && l.clean === true)).toBe(true);
  }, 450_000);
});
