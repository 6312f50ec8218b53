// `GET /openapi.json` and `GET /docs`. The document is built once, when the routes are
// registered: the registry does not change while the server runs.

import type { FastifyInstance } from 'fastify';
import type { KindRegistry } from '../../core/resources/registry.js';
import { VERSION } from '../../version.js';
import { docsPage } from './docs-page.js';
import { openApiDocument } from './document.js';

/** Registers `/openapi.json` and `/docs` for the kinds of `kinds` (and `/v1/system` when served). */
export async function openApiRoutes(
  app: FastifyInstance,
  kinds: KindRegistry,
  parts: { system?: boolean } = {},
): Promise<void> {
  const document = openApiDocument(kinds, VERSION, parts);
  const body = JSON.stringify(document);
  const page = docsPage(document);
  app.get('/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(body),
  );
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
