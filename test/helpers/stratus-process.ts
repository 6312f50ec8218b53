import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** The repository's root directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A `stratus` child process with its output collected line by line. */
export interface StratusProcess {
  child: ChildProcess;
  /** stdout lines parsed as JSON log records (non-JSON lines are kept as `{ raw }`). */
  logs: Array<Record<string, unknown>>;
  stderr: string[];
  /** Resolves with the first log record (seen or future) that matches, or rejects at the deadline. */
  waitForLog(
    match: (r: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or 128 + signal number style name) once the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Starts `stratus <args>` through tsx, with a clean environment (no drain delay) plus `env`. */
export function spawnStratus(args: string[], env: Record<string, string> = {}): StratusProcess {
  return spawnCommand(process.execPath, ['--import', 'tsx', MAIN, ...args], env);
}

/**
 * Starts any command that runs stratus (`npm start`, `node bin/stratus.js`), with a clean
 * environment plus `env`, in `cwd` (default the repository).
 */
export function spawnCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
): StratusProcess {
  const child = spawn(command, args, {
    cwd,
    // No drain window unless a test asks for one: a replica on PostgreSQL would otherwise spend
    // its default 5 s answering 503 before every stop.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'info',
      DRAIN_DELAY_MS: '0',
      ...env,
      ...(process.env.STRATUS_CHILD_LOG_LEVEL ? { LOG_LEVEL: process.env.STRATUS_CHILD_LOG_LEVEL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  keepOutput(child, args);
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const waiters: Array<{
    match: (r: Record<string, unknown>) => boolean;
    resolve: (r: Record<string, unknown>) => void;
  }> = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        record = { raw: line };
      }
      logs.push(record);
      for (const w of [...waiters]) {
        if (w.match(record)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(record);
        }
      }
      nl = buffered.indexOf('\n');
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child,
    logs,
    stderr,
    exited,
    waitForLog(match, timeoutMs = 30_000) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('')}; last logs: ${JSON.stringify(logs.slice(-5))}`,
            ),
          );
        }, timeoutMs);
        const waiter = {
          match,
          resolve: (r: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        waiters.push(waiter);
        void exited.then(() => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            reject(new Error(`process exited before a matching log line; stderr: ${stderr.join('')}`));
          }
        });
      });
    },
  };
}

let kept = 0;

/**
 * With `STRATUS_CHILD_LOG_DIR` set, a child's stdout and stderr are also written to a file of
 * that directory (named by the test process, a counter and the child's arguments), each line
 * prefixed with the test process's clock: artifacts to read when a test with real processes
 * failed. `STRATUS_CHILD_LOG_LEVEL` (e.g. `debug`: every job started and completed) overrides
 * the children's log level.
 */
function keepOutput(child: ChildProcess, args: readonly string[]): void {
  const dir = process.env.STRATUS_CHILD_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const label = args
    .filter((a) => !a.includes('/'))
    .join('_')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 60);
  const file = createWriteStream(join(dir, `${process.pid}-${++kept}-${label}.log`));
  const rest = { out: '', err: '' };
  for (const [name, stream] of [
    ['out', child.stdout],
    ['err', child.stderr],
  ] as const) {
    stream?.on('data', (chunk: Buffer | string) => {
      const lines = (rest[name] + chunk.toString()).split('\n');
      rest[name] = lines.pop() ?? '';
      for (const line of lines) file.write(`${new Date().toISOString()} ${name} ${line}\n`);
    });
  }
  // 'close', not 'exit': output may still come after the process exited.
  child.once('close', (code, signal) => {
    if (rest.out) file.write(`${new Date().toISOString()} out ${rest.out}\n`);
    if (rest.err) file.write(`${new Date().toISOString()} err ${rest.err}\n`);
    file.end(`${new Date().toISOString()} exit ${code ?? signal}\n`);
  });
}

/** Kills every stratus child still running (afterEach/afterAll). */
export async function killAllStratus(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

export const isReady = (r: Record<string, unknown>) =>
  typeof r.msg === 'string' && r.msg.startsWith('stratus ready');
