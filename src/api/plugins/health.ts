import type { FastifyPluginAsync } from 'fastify';
import type { Readiness } from '../../runtime/readiness.js';

/**
 * GET /healthz: the process is alive (no dependency is checked, so an orchestrator does not
 * restart a healthy process because the database blinked).
 * GET /readyz: 200 when every dependency answers, 503 with the failing ones otherwise.
 */
export const healthPlugin: FastifyPluginAsync<{ readiness: Readiness }> = async (app, { readiness }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const report = await readiness.report();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
};
