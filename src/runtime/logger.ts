import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel, Role } from '../config/index.js';

export type { Logger };

/**
 * The process logger: JSON lines carrying the node id and role, or human-readable lines
 * when stdout is a terminal. Writes are synchronous so that the last lines before a crash
 * or an exit are not lost (the control plane logs events, not per-request chatter).
 */
export function createLogger(options: { level: LogLevel; nodeId: string; role: Role }): Logger {
  const base = { node: options.nodeId, role: options.role };
  const stream = process.stdout.isTTY
    ? pretty({ colorize: true, sync: true, ignore: 'pid,hostname' })
    : pino.destination({ fd: 1, sync: true });
  return pino({ level: options.level, base, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
