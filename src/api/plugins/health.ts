import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Readiness } from '../../runtime/readiness.js';

/**
 * GET /healthz: the process is alive (no dependency is checked, so an orchestrator does not
 * restart a healthy process because the database blinked).
 * GET /readyz: 200 when every dependency answers, 503 with the failing ones otherwise.
 */
const plugin: FastifyPluginAsync<{ readiness: Readiness }> = async (app, { readiness }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const report = await readiness.report();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
};

export const healthPlugin = fp(plugin, { name: 'stratus-health' });
