// Errors as `application/problem+json` (RFC 9457): a stable code, the HTTP status, a detail a
// client may read, and a JSON Pointer per failing field. A 5xx never carries the cause.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isControlError } from '../control/errors.js';
import type { FieldError } from '../core/resources/field-error.js';
import { isTransientDatabaseError } from '../ha/db/transient.js';

/** The body of every error answer. */
export interface Problem {
  /** `urn:stratus:problem:<code>`: stable, for programs. */
  readonly type: string;
  /** Short, stable per type. */
  readonly title: string;
  readonly status: number;
  /** What went wrong this time. */
  readonly detail: string;
  /** Stable machine-readable code, e.g. `VALIDATION_FAILED`. */
  readonly code: string;
  /** One entry per failing field: `path` points into the request (`/spec/cidr`, `/query/limit`). */
  readonly errors?: readonly FieldError[];
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition failed',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

/** What a client is told to wait before retrying a request the database could not serve. */
const RETRY_AFTER_S = '1';

/** Sends a problem answer. */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  errors?: readonly FieldError[],
): FastifyReply {
  const problem: Problem = {
    type: `urn:stratus:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[status] ?? (status < 500 ? 'Client error' : 'Server error'),
    status,
    detail,
    code,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
  return reply.code(status).type('application/problem+json').send(problem);
}

/** Turns a Fastify schema failure (`err.validation`) into field errors under `/<part>`. */
function validationErrors(err: FastifyError): FieldError[] {
  const part = err.validationContext ?? 'request';
  return (err.validation ?? []).map((v) => ({
    path: `/${part}${v.instancePath}`,
    message: v.message ?? 'is invalid',
  }));
}

/**
 * The error and not-found handlers of the API's scope: control errors with their status,
 * Fastify's own 4xx (malformed JSON, too large a body, a wrong media type) with its message,
 * the database's passing trouble (a dropped connection, a lock wait that ran out) a 503 with
 * Retry-After, anything else a bare 500 and a log line.
 */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isControlError(err)) return sendProblem(reply, err.status, err.code, err.message, err.errors);
    if (err.validation) return sendProblem(reply, 400, 'INVALID_REQUEST', err.message, validationErrors(err));
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500)
      return sendProblem(reply, status, err.code ?? 'BAD_REQUEST', err.message);
    if (isTransientDatabaseError(err)) {
      request.log.warn({ err, url: request.url }, 'request failed on the database; the client may retry');
      reply.header('retry-after', RETRY_AFTER_S);
      return sendProblem(reply, 503, 'UNAVAILABLE', 'the database could not serve the request now; retry it');
    }
    request.log.error({ err, url: request.url }, 'request failed');
    return sendProblem(reply, 500, 'INTERNAL', 'the request could not be served; it is safe to retry');
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
