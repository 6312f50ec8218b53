/** The logger the job components accept: pino's shape, so a pino logger fits as it is. */
export interface JobLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Discards everything: the default when no logger is given. */
export const silentLogger: JobLogger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};

export { coerceError } from '../errors.js';
