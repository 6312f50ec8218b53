import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port: number, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function run(command: string, what: string): void {
  try {
    execFileSync('bash', ['-c', command], { stdio: 'pipe' });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`${what} is down and could not be started with \`${command}\`: ${detail}`);
  }
}

/** Starts PostgreSQL and Redis with this machine's commands when they are not answering. */
export async function ensureServices(): Promise<void> {
  if (!(await portOpen(5432))) {
    run(
      'command -v pg_ctlcluster >/dev/null || { echo "PostgreSQL is not installed (pg_ctlcluster not found)" >&2; exit 1; }; pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
      'PostgreSQL',
    );
    if (!(await waitForPort(5432, 30_000)))
      throw new Error('PostgreSQL did not open 127.0.0.1:5432 within 30 s');
  }
  if (!(await portOpen(6379))) {
    run(
      'command -v redis-server >/dev/null || { echo "Redis is not installed (redis-server not found)" >&2; exit 1; }; redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
      'Redis',
    );
    if (!(await waitForPort(6379, 30_000))) throw new Error('Redis did not open 127.0.0.1:6379 within 30 s');
  }
}
