/** A scenario step that cannot run as written: an unknown target, an action it does not take. */
export class FaultTargetError extends Error {
  readonly code = 'DRILL_FAULT_TARGET';
  override readonly name = 'FaultTargetError';
}

export function isFaultTargetError(err: unknown): err is FaultTargetError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'DRILL_FAULT_TARGET';
}
