// Errors of the simulator's HTTP routes as RFC 9457 problem documents: a backend error
// keeps its stable code and the details a client needs to rebuild it; bad input names the
// field; anything else is a 500 that says nothing of the internals.

import type { FastifyError, FastifyReply } from 'fastify';
import { BackendErrorCode, isBackendError } from '../../core/errors/backend-errors.js';

/** A problem document. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Stable code: a backend error code, or `SIM_BAD_REQUEST`, `SIM_UNAUTHORIZED`, `SIM_NOT_FOUND`, `SIM_INTERNAL`. */
  readonly code: string;
  /** The offending field, as a dotted path from the body or query (`spec.name`). */
  readonly field?: string;
  readonly resource?: string;
  readonly presented?: number;
  readonly newest?: number;
  readonly reason?: string;
}

const STATUS: Readonly<Record<string, number>> = {
  [BackendErrorCode.NotFound]: 404,
  [BackendErrorCode.InvalidInput]: 422,
  [BackendErrorCode.Conflict]: 409,
  [BackendErrorCode.StaleFencingToken]: 409,
  [BackendErrorCode.Unavailable]: 503,
};

/** Sends `problem` with its status and media type. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** A 400 naming `field`. */
export function badRequest(field: string, detail: string): Problem {
  return {
    type: 'urn:stratus:sim:bad-request',
    title: 'Bad request',
    status: 400,
    detail,
    code: 'SIM_BAD_REQUEST',
    field,
  };
}

/** A 404 for a route or admin object that does not exist. */
export function notFound(detail: string, field?: string): Problem {
  return {
    type: 'urn:stratus:sim:not-found',
    title: 'Not found',
    status: 404,
    detail,
    code: 'SIM_NOT_FOUND',
    ...(field === undefined ? {} : { field }),
  };
}

/** The problem document of any error a route raised. */
export function problemOf(error: unknown): Problem {
  if (isBackendError(error)) {
    const e = error as unknown as Record<string, unknown>;
    const pick = (key: string) => (e[key] === undefined ? {} : { [key]: e[key] });
    return {
      type: `urn:stratus:backend:${error.code.toLowerCase()}`,
      title: error.name,
      status: STATUS[error.code] ?? 500,
      detail: error.message,
      code: error.code,
      ...pick('resource'),
      ...pick('presented'),
      ...pick('newest'),
      ...pick('reason'),
    };
  }
  const fastify = error as FastifyError;
  if (fastify.validation !== undefined && fastify.validation.length > 0) {
    const [first] = fastify.validation;
    const params = (first?.params ?? {}) as Record<string, unknown>;
    const extra = params.missingProperty ?? params.additionalProperty;
    const path = `${first?.instancePath ?? ''}${extra === undefined ? '' : `/${String(extra)}`}`;
    const field = [fastify.validationContext, ...path.split('/').filter((p) => p !== '')].join('.');
    const what =
      params.additionalProperty !== undefined
        ? 'is not a known field'
        : first?.keyword === 'false schema'
          ? 'is not allowed here'
          : first?.message;
    return badRequest(field, `${field} ${what ?? 'is invalid'}`);
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    // Fastify's own refusals (a body that is not JSON, an unsupported media type).
    return { ...badRequest('body', fastify.message), status: fastify.statusCode };
  }
  return {
    type: 'urn:stratus:sim:internal',
    title: 'Internal error',
    status: 500,
    detail: 'the simulator failed to serve the request',
    code: 'SIM_INTERNAL',
  };
}
