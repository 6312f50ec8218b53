// The pipelines' routes besides the generic ones of the kinds:
//   PUT|DELETE /v1/pipelines/:id/webhook-secret   set or remove the secret signed calls are checked against
//   GET /v1/pipeline-runs/:id/logs?step=&follow=  one step's log, NDJSON, from the runner backend
//   POST /v1/hooks/pipelines/:id                  a signed call starts a run (no API key: the signature is the proof)
//
// A hook's signature is `X-Stratus-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with
// the pipeline's secret, as GitHub signs its webhooks. A missing or wrong signature, a pipeline
// without a secret and an unknown pipeline are all the same 401, and start nothing.
// `X-Stratus-Delivery` names a delivery: the same one again gets the first answer, no second run.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BadRequestError, DeletingError } from '../../control/errors.js';
import { fingerprintOf } from '../../control/idempotency.js';
import type { ResourceService } from '../../control/service.js';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { RunnerPort } from '../../core/ports/runner.js';
import type { Database } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { requireRole } from '../auth/authenticate.js';
import { installProblemHandlers, sendProblem } from '../problem.js';
import type { TenantResolver } from '../tenant.js';

const SQL = {
  put: loadText(new URL('./sql/put-secret.sql', import.meta.url)),
  remove: loadText(new URL('./sql/delete-secret.sql', import.meta.url)),
  read: loadText(new URL('./sql/read-secret.sql', import.meta.url)),
};

/** The signature header and its scheme. */
export const SIGNATURE_HEADER = 'x-stratus-signature';
export const DELIVERY_HEADER = 'x-stratus-delivery';
/** The largest hook body. */
const HOOK_BODY_LIMIT = 1 << 20;

/** `sha256=<hex>` of `body` with `secret`: what a sender puts in {@link SIGNATURE_HEADER}. */
export function signatureOf(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether `presented` is the signature of `body`, compared in constant time. */
export function signatureMatches(secret: string, body: Buffer, presented: string): boolean {
  const want = Buffer.from(signatureOf(secret, body));
  const got = Buffer.from(presented);
  return want.length === got.length && timingSafeEqual(want, got);
}

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
const SecretBody = Type.Object(
  { secret: Type.String({ minLength: 16, maxLength: 256, description: 'at least 16 characters' }) },
  { additionalProperties: false },
);
const LogsQuery = Type.Object(
  {
    step: Type.String({ minLength: 3, maxLength: 130, description: '`<stage>/<step>`' }),
    follow: Type.Optional(Type.Boolean({ description: 'keep the stream open until the step ends' })),
    tail: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_000, description: 'start with the last N lines' }),
    ),
  },
  { additionalProperties: false },
);

/** Options of {@link pipelineRoutes} and {@link hookRoutes}. */
export interface PipelineRoutesOptions {
  readonly service: ResourceService;
  readonly db: Database;
  /** The runner backend, for logs. */
  readonly runner: RunnerPort;
  readonly tenant: TenantResolver;
}

/** The authenticated routes (inside the `/v1` scope). */
export async function pipelineRoutes(app: FastifyInstance, options: PipelineRoutesOptions): Promise<void> {
  const { service, db, tenant } = options;
  const livePipeline = async (t: string, id: string) => {
    const pipeline = await service.get(t, 'pipelines', id);
    if (pipeline.deletionRequestedAt) throw new DeletingError(`${id} is being deleted`);
    return pipeline;
  };

  app.put(
    '/pipelines/:id/webhook-secret',
    { schema: { params: IdParams, body: SecretBody }, preHandler: requireRole('member') },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const t = tenant(request);
      await livePipeline(t, id);
      await db.query(SQL.put, [id, t, (request.body as { secret: string }).secret]);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/pipelines/:id/webhook-secret',
    { schema: { params: IdParams }, preHandler: requireRole('member') },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const t = tenant(request);
      await service.get(t, 'pipelines', id);
      await db.query(SQL.remove, [id, t]);
      return reply.code(204).send();
    },
  );

  app.get(
    '/pipeline-runs/:id/logs',
    { schema: { params: IdParams, querystring: LogsQuery } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const q = request.query as { step: string; follow?: boolean; tail?: number };
      const run = await service.get(tenant(request), 'pipeline-runs', id);
      const outputs = run.status.outputs as
        | { backendId?: string; steps?: { stage: string; step: string }[] }
        | undefined;
      if (!outputs?.steps?.some((s) => `${s.stage}/${s.step}` === q.step))
        throw new BadRequestError(
          '/querystring/step',
          `must be one of the run's steps: ${(outputs?.steps ?? []).map((s) => `${s.stage}/${s.step}`).join(', ') || '(the run has not started)'}`,
        );
      const closed = new AbortController();
      request.raw.on('close', () => closed.abort());
      let lines: AsyncIterable<{ at: number; line: string }>;
      try {
        lines = await options.runner.streamRunLogs(outputs.backendId!, {
          step: q.step,
          signal: closed.signal,
          ...(q.follow === undefined ? {} : { follow: q.follow }),
          ...(q.tail === undefined ? {} : { tail: q.tail }),
        });
      } catch (err) {
        // Deleted in the backend meanwhile: no logs any more, as for a run that is gone.
        if (isNotFoundError(err)) return sendProblem(reply, 404, 'NOT_FOUND', `the logs of ${id} are gone`);
        throw err;
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'cache-control': 'no-store',
      });
      try {
        for await (const l of lines)
          reply.raw.write(`${JSON.stringify({ at: new Date(l.at).toISOString(), line: l.line })}\n`);
      } catch {
        // The client went away, or the backend ended the stream: the response just ends.
      }
      reply.raw.end();
    },
  );
}

/** The hook routes: outside the authenticated scope, under `/v1/hooks`. */
export async function hookRoutes(
  app: FastifyInstance,
  options: Omit<PipelineRoutesOptions, 'runner' | 'tenant'>,
): Promise<void> {
  const { service, db } = options;
  await app.register(
    async (scope) => {
      installProblemHandlers(scope);
      // The signature is over the bytes as sent: any body is taken raw.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT }, (_req, body, done) =>
        done(null, body),
      );
      const refused = 'the signature is missing or does not match this pipeline';
      scope.post('/pipelines/:id', { schema: { params: IdParams } }, async (request, reply) => {
        const { id } = request.params as { id: string };
        const presented = request.headers[SIGNATURE_HEADER];
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const row = (await db.query<{ tenant: string; secret: string; name: string }>(SQL.read, [id]))
          .rows[0];
        if (typeof presented !== 'string' || !row || !signatureMatches(row.secret, body, presented))
          return sendProblem(reply, 401, 'UNAUTHORIZED', refused);
        const delivery = request.headers[DELIVERY_HEADER];
        if (
          delivery !== undefined &&
          (typeof delivery !== 'string' || delivery.length < 1 || delivery.length > 128)
        )
          throw new BadRequestError(`/headers/${DELIVERY_HEADER}`, 'must be 1 to 128 characters');
        const suffix = createHash('sha256')
          .update(typeof delivery === 'string' ? delivery : randomBytes(16))
          .digest('hex')
          .slice(0, 12);
        const answer = await service.create(
          row.tenant,
          'pipeline-runs',
          {
            name: `${row.name.slice(0, 46).replace(/-+$/, '')}-${suffix}`,
            spec: { pipeline: id, trigger: 'webhook' },
          },
          typeof delivery === 'string'
            ? {
                idempotency: {
                  key: `hook/${id}/${delivery}`,
                  fingerprint: fingerprintOf('POST', `/v1/hooks/pipelines/${id}`, body.toString('base64')),
                },
              }
            : {},
        );
        if (answer.replayed) reply.header('idempotent-replayed', 'true');
        return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
      });
    },
    { prefix: '/v1/hooks' },
  );
}
