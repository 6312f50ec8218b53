/**
 * Helpers shared by the kernel's error modules. Guards test a stable `code` rather than
 * `instanceof`, so an error is recognised across two copies of the package.
 */

/** Whether `err` is an object carrying `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Turns anything thrown into an Error, once, keeping the original as `cause`. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `non-error thrown: ${String(value)}`, {
    cause: value,
  });
}
