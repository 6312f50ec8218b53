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

/** Turns anything thrown into an Error once, keeping the original as `cause`. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `non-error thrown: ${String(value)}`, {
    cause: value,
  });
}
