// The five ports over HTTP: one route per operation, `POST /v1/<backend>/<operation>`,
// validated by the wire schemas. The route calls the simulated port exactly as an
// in-process caller would, with a signal that aborts when the client goes away.

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { BackendKind } from '../../core/ports/index.js';
import type { SimBackends } from '../index.js';
import { WIRE, type WireOperation } from '../wire/operations.js';
import { SCHEMAS } from '../wire/schemas.js';

type Method = (...args: unknown[]) => Promise<unknown>;

function bodySchema(operation: WireOperation) {
  const properties: Record<string, unknown> = { options: SCHEMAS[operation.options] };
  for (const [name, schema] of operation.params) properties[name] = SCHEMAS[schema];
  const required = [...operation.params.map(([name]) => name), ...(operation.mutation ? ['options'] : [])];
  return { type: 'object', additionalProperties: false, properties, required };
}

/** Counts each call, for `/metrics`. */
export type CallCounter = (backend: BackendKind, operation: string, outcome: string) => void;

/** Registers the routes of every port operation of `sim`. */
export function portRoutes(sim: SimBackends, count: CallCounter) {
  return async (app: FastifyInstance): Promise<void> => {
    for (const [backend, operations] of Object.entries(WIRE) as [
      BackendKind,
      Record<string, WireOperation>,
    ][]) {
      const port = sim[backend] as unknown as Record<string, Method>;
      for (const [name, operation] of Object.entries(operations)) {
        app.post(
          `/v1/${backend}/${name}`,
          { schema: { body: bodySchema(operation) } },
          async (request, reply) => {
            const body = (request.body ?? {}) as Record<string, unknown>;
            const aborted = new AbortController();
            // The response's close (not the request's) says the client left: the request
            // stream closes as soon as its body has been read. A response closes after every
            // answer too; only one closed before it finished is a client gone (aborting on
            // every close built an Error and ran the abort listeners once per call).
            const raw = reply.raw;
            raw.once('close', () => {
              if (!raw.writableFinished) aborted.abort(new Error('client closed the connection'));
            });
            const options = { ...(body.options as object), signal: aborted.signal };
            const args = [...operation.params.map(([param]) => body[param]), options];
            try {
              const result = await port[name]!.apply(port, args);
              count(backend, name, 'ok');
              if (!operation.stream) return { result: result ?? null };
              const items = result as AsyncIterable<unknown>;
              reply.type('application/x-ndjson');
              return reply.send(Readable.from(ndjson(items)));
            } catch (error) {
              count(backend, name, (error as { code?: string }).code ?? 'error');
              throw error;
            }
          },
        );
      }
    }
  };
}

/** NDJSON lines of a stream; a stream that ends in an error just ends (the connection closes). */
export async function* ndjson(items: AsyncIterable<unknown>): AsyncGenerator<string> {
  try {
    for await (const item of items) yield `${JSON.stringify(item)}\n`;
  } catch {
    return;
  }
}
