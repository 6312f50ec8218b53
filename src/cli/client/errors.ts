// The errors of the client commands, each with the exit status it ends the command with. The
// statuses are a contract for scripts (docs/cli.md): 0 ok, 1 failure, 2 usage, 3 not found,
// 4 conflict, 5 auth, 6 timed out waiting.

/** Exit statuses of the client commands. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  auth: 5,
  timeout: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A field error of a problem answer: a JSON Pointer and what is wrong there. */
export interface ProblemField {
  readonly path: string;
  readonly message: string;
}

/** An `application/problem+json` answer (RFC 9457) as the API sends it. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly detail?: string;
  readonly code?: string;
  readonly errors?: readonly ProblemField[];
}

/** Why a command stopped, with the exit status it stops with. */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** Stable marker for {@link isCliError}, which survives two copies of this module. */
  readonly cliError = true;
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCliError(err: unknown): err is CliError {
  return typeof err === 'object' && err !== null && (err as { cliError?: unknown }).cliError === true;
}

/** A command line the CLI cannot take (exit 2). */
export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** The exit status of an HTTP error status. */
export function exitCodeOfStatus(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.auth;
  return EXIT.failure;
}

/** An error answer of the API, kept whole so the caller can print its fields. */
export class ApiError extends CliError {
  constructor(
    readonly problem: Problem,
    readonly method: string,
    readonly path: string,
  ) {
    super(formatProblem(problem), exitCodeOfStatus(problem.status));
  }
}

export function isApiError(err: unknown): err is ApiError {
  return isCliError(err) && typeof (err as { problem?: unknown }).problem === 'object';
}

/**
 * A problem as a human reads it: the status and code on the first line with the detail, then
 * one line per field path. The detail repeats the first field error when there is only one, so
 * the field lines are printed only when they add something.
 */
export function formatProblem(problem: Problem): string {
  const head = [String(problem.status), problem.code ?? problem.title].filter(Boolean).join(' ');
  const detail = problem.detail ?? problem.title ?? 'request failed';
  const lines = [`${head}: ${detail}`];
  const fields = problem.errors ?? [];
  const repeated = fields.length === 1 && detail === `${fields[0]!.path}: ${fields[0]!.message}`;
  if (!repeated) {
    const width = Math.max(0, ...fields.map((f) => f.path.length));
    for (const f of fields) lines.push(`  ${f.path.padEnd(width)}  ${f.message}`);
  }
  return lines.join('\n');
}
