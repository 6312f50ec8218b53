// `/v1/system`: what operators (the CLI's `stratus system …`, the console) read of the running
// control plane — replicas, leaders, queues, breakers — and the dead letters with their redrive.
// Admin only: every route runs behind the `authorize` pre-handler the caller hands in.

import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { BadRequestError, NotFoundError } from '../../control/errors.js';
import { fingerprintOf } from '../../control/idempotency.js';
import type { DeadLetters } from '../../control/redrive.js';
import { type DrillReportsDir, isDrillReportNameError } from '../../drill/report/reports-dir.js';
import { parseIdempotencyKey } from '../resources/query.js';
import type { TenantResolver } from '../tenant.js';
import {
  type BreakerReportT,
  type ControllerReportT,
  DEFAULT_SYSTEM_LIMIT,
  DeadLetterParams,
  DeadLettersQuery,
  DrillReportParams,
  LeadersQuery,
  type LeaderT,
  type QueueReportT,
  type ReplicaT,
  type TermT,
} from './schemas.js';

/** What the system routes read; built by the process wiring over its stores. */
export interface SystemService {
  replicas(): Promise<{ items: ReplicaT[] }>;
  leaders(query: { key?: string; limit: number }): Promise<{ items: LeaderT[]; journal: TermT[] }>;
  queues(): Promise<{ items: QueueReportT[] }>;
  breakers(): Promise<{ items: BreakerReportT[] }>;
  /** Every singleton controller's last report. */
  controllers(): Promise<{ items: ControllerReportT[] }>;
  readonly deadLetters: DeadLetters;
  /** The drill reports of `--drill-reports-dir`; absent when none is set. */
  readonly drillReports?: DrillReportsDir;
}

/** Options of {@link systemRoutes}. */
export interface SystemRoutesOptions {
  readonly service: SystemService;
  readonly tenant: TenantResolver;
  /**
   * Runs before every system route and rejects callers that are not operators (the admin
   * guard of the auth plugin). Default: nobody is refused.
   */
  readonly authorize?: preHandlerAsyncHookHandler;
}

/** The opaque cursor after job key `key`. */
const encodeCursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[\x21-\x7e]{1,255}$/.test(key) || encodeCursor(key) !== cursor)
    throw new BadRequestError('/querystring/cursor', 'is not a cursor of this listing');
  return key;
}

/** Registers the system routes (inside the `/v1` scope), in a scope of their own for the guard. */
export async function systemRoutes(app: FastifyInstance, options: SystemRoutesOptions): Promise<void> {
  const { service, tenant } = options;
  await app.register(async (scope) => {
    if (options.authorize) scope.addHook('preHandler', options.authorize);

    scope.get('/system/replicas', async () => service.replicas());

    scope.get('/system/leaders', { schema: { querystring: LeadersQuery } }, async (request) => {
      const q = request.query as { key?: string; limit?: number };
      return service.leaders({
        ...(q.key === undefined ? {} : { key: q.key }),
        limit: q.limit ?? DEFAULT_SYSTEM_LIMIT,
      });
    });

    scope.get('/system/queues', async () => service.queues());

    scope.get('/system/breakers', async () => service.breakers());

    scope.get('/system/controllers', async () => service.controllers());

    // Read-only files of the operator's: a name that is not one segment of the directory is a 400,
    // a run without the file a 404, and no directory set a 404 that names the setting.
    const reports = (): DrillReportsDir => {
      if (service.drillReports) return service.drillReports;
      throw new NotFoundError('no drill reports directory is set: start with --drill-reports-dir');
    };
    const reportError = (error: unknown): never => {
      if (!isDrillReportNameError(error)) throw error;
      if (error.reason === 'invalid') throw new BadRequestError('/params/name', error.message);
      throw new NotFoundError(error.message);
    };

    scope.get('/system/drill-reports', async () => ({ items: await reports().list() }));

    scope.get('/system/drill-reports/:name', { schema: { params: DrillReportParams } }, async (request) => {
      const { name } = request.params as { name: string };
      return reports().report(name).catch(reportError);
    });

    scope.get(
      '/system/drill-reports/:name/timeline.svg',
      { schema: { params: DrillReportParams } },
      async (request, reply) => {
        const { name } = request.params as { name: string };
        const svg = await reports().timeline(name).catch(reportError);
        return reply
          .type('image/svg+xml; charset=utf-8')
          .header('x-content-type-options', 'nosniff')
          .send(svg);
      },
    );

    scope.get('/system/dead-letters', { schema: { querystring: DeadLettersQuery } }, async (request) => {
      const q = request.query as { limit?: number; cursor?: string; kind?: string };
      const limit = q.limit ?? DEFAULT_SYSTEM_LIMIT;
      const items = await service.deadLetters.list({
        limit: limit + 1,
        ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor) }),
        ...(q.kind === undefined ? {} : { kind: q.kind }),
      });
      const page = items.slice(0, limit);
      return items.length > limit
        ? { items: page, nextCursor: encodeCursor(page.at(-1)!.jobKey) }
        : { items: page };
    });

    scope.post(
      '/system/dead-letters/:key/redrive',
      { schema: { params: DeadLetterParams } },
      async (request, reply) => {
        const { key } = request.params as { key: string };
        const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key']);
        const path = request.url.split('?')[0]!;
        const answer = await service.deadLetters.redrive(tenant(request), key, {
          ...(idempotencyKey === undefined
            ? {}
            : {
                idempotency: {
                  key: idempotencyKey,
                  fingerprint: fingerprintOf('POST', path, request.body ?? null),
                },
              }),
        });
        const body = JSON.parse(answer.body) as { operation: { id: string } | null };
        if (body.operation) reply.header('location', `/v1/operations/${body.operation.id}`);
        if (answer.replayed) reply.header('idempotent-replayed', 'true');
        return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
      },
    );
  });
}
