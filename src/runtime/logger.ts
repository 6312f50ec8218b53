import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel, Role } from '../config/index.js';

export type { Logger };

/** Where the logger writes and what it knows of its terminal; the process's own by default. */
export interface LogOutput {
  /** A file descriptor or a stream. */
  destination: number | NodeJS.WritableStream;
  /** Whether the destination is a terminal (human-readable lines instead of JSON). */
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * True when colours are wanted: never when NO_COLOR is set to anything but the empty string
 * (https://no-color.org), which wins over FORCE_COLOR; otherwise on a terminal.
 */
export function wantsColor(output: Pick<LogOutput, 'isTTY' | 'env'>): boolean {
  const noColor = output.env.NO_COLOR;
  return (noColor === undefined || noColor === '') && output.isTTY;
}

/**
 * The process logger: JSON lines carrying the node id and role, or human-readable lines
 * when stdout is a terminal (in colour unless NO_COLOR is set). Writes are synchronous so that
 * the last lines before a crash or an exit are not lost (the control plane logs events, not
 * per-request chatter).
 */
export function createLogger(
  options: { level: LogLevel; nodeId: string; role: Role },
  output: LogOutput = { destination: 1, isTTY: process.stdout.isTTY === true, env: process.env },
): Logger {
  const base = { node: options.nodeId, role: options.role };
  const stream = output.isTTY
    ? pretty({
        colorize: wantsColor(output),
        sync: true,
        ignore: 'pid,hostname',
        destination: output.destination,
      })
    : typeof output.destination === 'number'
      ? pino.destination({ fd: output.destination, sync: true })
      : output.destination;
  return pino({ level: options.level, base, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
