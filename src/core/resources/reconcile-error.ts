// The error a driver throws to say why a pass failed, in the words the resource shows:
// `Ready=False, reason=<reason>, message=<message>`.

const CODE = 'STRATUS_RECONCILE';

/** A failed reconcile pass with a one-word reason; `terminal` stops the retries. */
export class ReconcileError extends Error {
  /** Stable code checked by {@link isReconcileError}. */
  readonly code = CODE;
  override readonly name = 'ReconcileError';
  /**
   * @param reason one CamelCase word, e.g. `DependencyNotReady`
   * @param message for a human
   * @param terminal true when retrying cannot help (the next change of spec may)
   */
  constructor(
    readonly reason: string,
    message: string,
    readonly terminal = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True for a {@link ReconcileError} from any copy of the code. */
export function isReconcileError(err: unknown): err is ReconcileError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === CODE;
}
