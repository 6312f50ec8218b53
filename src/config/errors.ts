/** A setting that was given a value it cannot take. The CLI prints `message` and exits 2. */
export class ConfigError extends Error {
  readonly code = 'STRATUS_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** True for a {@link ConfigError}, also one thrown by another copy of this module. */
export function isConfigError(err: unknown): err is ConfigError {
  return (err as { code?: unknown } | null)?.code === 'STRATUS_CONFIG_INVALID';
}
