// `GET /v1/operations/:id`: how an accepted mutation is going, with the resource as it is now.
// `?wait=5s` holds the answer until the operation is terminal or the time is up.

import type { FastifyInstance } from 'fastify';
import { isControlError } from '../../control/errors.js';
import type { ResourceService } from '../../control/service.js';
import { isTerminal, type Operation } from '../../control/store.js';
import type { Resource } from '../../core/resources/resource.js';
import type { TenantResolver } from '../tenant.js';
import { hold } from './hold.js';
import { parseWait } from './query.js';
import { IdParams, WaitQuery } from './schemas.js';

/** Options of {@link operationRoutes}. */
export interface OperationRoutesOptions {
  readonly service: ResourceService;
  readonly tenant: TenantResolver;
  /** Between two reads of a held operation. Default 50 ms. */
  readonly pollMs?: number;
  /** Aborts held requests (the server is closing). */
  readonly signal: AbortSignal;
}

/** An operation with its resource (null once deleted). */
export interface OperationView extends Operation {
  readonly resource: Resource | null;
}

/** Registers the operation routes (inside the `/v1` scope). */
export async function operationRoutes(app: FastifyInstance, options: OperationRoutesOptions): Promise<void> {
  const { service, tenant } = options;
  const pollMs = options.pollMs ?? 50;

  const view = async (t: string, op: Operation): Promise<OperationView> => {
    const resource = await service.get(t, op.kind, op.resourceId).catch((err: unknown) => {
      if (isControlError(err) && err.status === 404) return null;
      throw err;
    });
    return { ...op, resource };
  };

  app.get(
    '/operations/:id',
    {
      schema: { params: IdParams, querystring: WaitQuery },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { wait } = request.query as { wait?: string };
      const t = tenant(request);
      let op = await service.getOperation(t, id);
      if (wait !== undefined)
        op = await hold(
          op,
          () => service.getOperation(t, id),
          (o) => isTerminal(o.state),
          parseWait(wait),
          {
            pollMs,
            signal: options.signal,
          },
        );
      return view(t, op);
    },
  );
}
