import { InvalidJobError } from './errors.js';
import { bodyProblem, identifierProblem } from './limits.js';

/**
 * The job envelope: the body of every queue message, written by producers (the outbox) and
 * read by consumers (the worker). Versioned so that a rolling upgrade can
 * read what older replicas wrote; anything that does not parse is dead-lettered with the
 * reason, never acknowledged silently.
 */
export interface JobEnvelope {
  readonly v: 1;
  /** The job key: the ledger's key and the client token handed to backends. */
  readonly key: string;
  /** Selects the handler. */
  readonly kind: string;
  readonly payload: unknown;
  /** Overrides the handler's max attempts for this job. */
  readonly maxAttempts?: number;
  /** When the producer committed the job (producer clock, ms since epoch): latency metrics only. */
  readonly enqueuedAt: number;
  /**
   * The W3C `traceparent` of the request that made the job, when it was traced: the job's
   * span continues that trace. Observability only; a malformed one is dropped, not refused.
   */
  readonly trace?: string;
}

/** What a producer hands to the outbox. */
export interface NewJob {
  readonly key: string;
  readonly kind: string;
  readonly payload?: unknown;
  readonly maxAttempts?: number;
  /** The W3C `traceparent` of the producing request, if it was traced. */
  readonly trace?: string;
}

/** A W3C traceparent: version 00, a trace id and a span id that are not all zeros, flags. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Whether `value` is a W3C traceparent header value. */
export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

/**
 * Serialises a job as a queue message body. Throws `InvalidJobError` when the key, the kind or
 * the body breaks a limit (see `limits.ts`): the producer learns it at once, in its own
 * transaction, instead of a batch failing later.
 */
export function encodeEnvelope(job: NewJob, enqueuedAt: number = Date.now()): string {
  const problem = identifierProblem(job.key, 'key') ?? identifierProblem(job.kind, 'kind');
  if (problem) throw new InvalidJobError(job.key, problem);
  if (job.maxAttempts !== undefined && !(Number.isInteger(job.maxAttempts) && job.maxAttempts >= 1)) {
    throw new InvalidJobError(job.key, 'maxAttempts must be a positive integer');
  }
  const envelope: JobEnvelope = {
    v: 1,
    key: job.key,
    kind: job.kind,
    payload: job.payload ?? null,
    ...(job.maxAttempts === undefined ? {} : { maxAttempts: job.maxAttempts }),
    enqueuedAt,
    ...(isTraceparent(job.trace) ? { trace: job.trace } : {}),
  };
  const body = JSON.stringify(envelope);
  const tooBig = bodyProblem(body);
  if (tooBig) throw new InvalidJobError(job.key, tooBig);
  return body;
}

export type ParsedEnvelope = { ok: true; job: JobEnvelope } | { ok: false; reason: string };

/**
 * Parses a message body, or says precisely why it is not a job: the same limits as
 * `encodeEnvelope`, since a body may come from an older or a foreign producer.
 */
export function parseEnvelope(body: string): ParsedEnvelope {
  const tooBig = bodyProblem(body);
  if (tooBig) return { ok: false, reason: tooBig };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  const e = value as Record<string, unknown>;
  if (e.v !== 1) return { ok: false, reason: `unsupported envelope version ${JSON.stringify(e.v)}` };
  if (e.key === undefined || e.key === '') return { ok: false, reason: 'envelope has no key' };
  if (e.kind === undefined || e.kind === '') return { ok: false, reason: 'envelope has no kind' };
  const problem = identifierProblem(e.key, 'key') ?? identifierProblem(e.kind, 'kind');
  if (problem) return { ok: false, reason: problem };
  if (e.maxAttempts !== undefined && !(Number.isInteger(e.maxAttempts) && (e.maxAttempts as number) >= 1)) {
    return { ok: false, reason: 'maxAttempts must be a positive integer' };
  }
  const enqueuedAt = typeof e.enqueuedAt === 'number' ? e.enqueuedAt : 0;
  return {
    ok: true,
    job: {
      v: 1,
      key: e.key as string,
      kind: e.kind as string,
      payload: e.payload ?? null,
      ...(e.maxAttempts === undefined ? {} : { maxAttempts: e.maxAttempts as number }),
      enqueuedAt,
      ...(isTraceparent(e.trace) ? { trace: e.trace } : {}),
    },
  };
}
