// One process a drill started: its output goes to a log file in the run directory, line by
// line, and a caller may wait for a line matching a predicate (the "stratus ready" line, the
// simulator's URL) with a deadline. Nothing is kept in memory but the waiters: a 30-minute
// drill logs far more than a process should hold.

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started process. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process has ended. */
  readonly exited: Promise<Exit>;
  /** Whether it has ended. */
  readonly done: boolean;
  /**
   * Resolves with the first line from now on that matches (stdout lines that are JSON are
   * parsed; others come as `{ raw }`); rejects at the deadline or when the process ends first.
   */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal (no-op once ended). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once ended. */
  stop(graceMs: number): Promise<Exit>;
}

/** What {@link spawnChild} starts. */
export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The file its stdout and stderr are appended to. */
  readonly logFile: string;
  readonly cwd?: string;
}

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
/** The `stratus` entry point next to this module (source under tsx, or the build). */
const MAIN = fileURLToPath(new URL(`../../cli/main${fromSource ? '.ts' : '.js'}`, import.meta.url));

/** The command and arguments that run `stratus <args>` the way this process runs. */
export function stratusCommand(args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...(fromSource ? ['--import', 'tsx'] : []), MAIN, ...args] };
}

/** A module of this folder as a command line (the watchdog), the way this process runs. */
export function moduleCommand(name: string, args: readonly string[]): { command: string; args: string[] } {
  const file = fileURLToPath(new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url));
  return { command: process.execPath, args: [...(fromSource ? ['--import', 'tsx'] : []), file, ...args] };
}

/**
 * Starts a process in its own process group (a Ctrl-C on the drill's terminal reaches the drill
 * alone, which stops everything in order) with exactly `env` plus PATH and HOME.
 */
export function spawnChild(spec: ChildSpec): Child {
  const log: WriteStream = createWriteStream(spec.logFile, { flags: 'a' });
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  const waiters = new Set<{
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    log.write(chunk);
    if (waiters.size === 0) {
      buffered = '';
      return;
    }
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(text);
        line =
          typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { raw: text };
      } catch {
        line = { raw: text };
      }
      for (const w of [...waiters]) if (w.match(line)) w.resolve(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.write(chunk));
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  void exited.then(() => log.end());
  const pid = child.pid;
  return {
    name: spec.name,
    pid,
    child,
    exited,
    get done() {
      return done;
    },
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (line: Record<string, unknown>) => {
            waiters.delete(waiter);
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${spec.name}: no expected line within ${timeoutMs} ms (see ${spec.logFile})`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((exit) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(
            new Error(
              `${spec.name} ended (${JSON.stringify(exit)}) before the expected line (see ${spec.logFile})`,
            ),
          );
        });
      });
    },
    signal(signal) {
      if (done) return;
      try {
        process.kill(pid, signal);
      } catch {
        // Gone between the check and the signal.
      }
    },
    async stop(graceMs) {
      if (done) return exited;
      this.signal('SIGCONT');
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

/** Whether a stratus log line is the one a process writes once it is ready. */
export const isReadyLine = (line: Record<string, unknown>): boolean =>
  typeof line.msg === 'string' && line.msg.startsWith('stratus ready');
