// The operator's handles on the simulated cloud, behind the admin token: fault rules
// (add one or a list, read, remove one, reset), the behaviour profile, crashes and load, and
// the health and lag of managed-database nodes.
// Without a token these routes do not exist.

import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../core/errors/backend-errors.js';
import { type FaultRuleInput, faultRuleProblem } from '../behaviour/faults.js';
import { isProfileError, parseProfile } from '../behaviour/profile.js';
import type { SimBackends } from '../index.js';
import { badRequest, notFound, type Problem, sendProblem } from './problem.js';

const unauthorized: Problem = {
  type: 'urn:stratus:sim:unauthorized',
  title: 'Unauthorized',
  status: 401,
  detail: 'the admin routes need Authorization: Bearer <admin token>',
  code: 'SIM_UNAUTHORIZED',
  field: 'authorization',
};

/** Most rules one POST adds (a drill's whole plan fits; a runaway script does not). */
const MAX_RULES_PER_POST = 1_000;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

const loadBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cpu: { type: 'number', minimum: 0, maximum: 1 },
    replicationLagMs: { type: 'number', minimum: 0 },
  },
} as const;

const nodeParams = {
  type: 'object',
  required: ['id', 'node'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 128 },
    node: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;

const healthBody = {
  type: 'object',
  additionalProperties: false,
  required: ['healthy'],
  properties: { healthy: { type: 'boolean' } },
} as const;

const lagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['lagMs'],
  properties: { lagMs: { type: 'number', minimum: 0 } },
} as const;

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Registers the admin routes, each checking `token`. */
export function adminRoutes(sim: SimBackends, token: string) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addHook('onRequest', async (request, reply) => {
      if (!tokenMatches(request.headers.authorization, token)) return sendProblem(reply, unauthorized);
    });

    app.get('/faults', async () => ({ rules: sim.cloud.faults.list() }));

    app.post('/faults', async (request, reply) => {
      const many = Array.isArray(request.body);
      const inputs = (many ? request.body : [request.body]) as unknown[];
      if (many && (inputs.length === 0 || inputs.length > MAX_RULES_PER_POST)) {
        return sendProblem(reply, badRequest('body', `a list of 1 to ${MAX_RULES_PER_POST} fault rules`));
      }
      for (const [i, input] of inputs.entries()) {
        const problem = faultRuleProblem(input);
        if (problem !== undefined) {
          const field = problem.split(' ')[0]!;
          return sendProblem(reply, badRequest(many ? `[${i}].${field}` : field, problem));
        }
      }
      const rules = inputs.map((input) => sim.cloud.faults.add(input as FaultRuleInput));
      return reply.code(201).send(many ? { rules } : rules[0]);
    });

    app.delete('/faults/:id', { schema: { params: idParams } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!sim.cloud.faults.remove(id)) return sendProblem(reply, notFound(`no fault rule ${id}`, 'id'));
      return reply.code(204).send();
    });

    app.delete('/faults', async (_request, reply) => {
      sim.cloud.faults.reset();
      return reply.code(204).send();
    });

    app.get('/profile', async () => sim.cloud.profile);

    app.put('/profile', async (request, reply) => {
      try {
        sim.cloud.profile = parseProfile(request.body);
      } catch (error) {
        if (isProfileError(error))
          return sendProblem(reply, badRequest(error.field || 'body', error.message));
        throw error;
      }
      return sim.cloud.profile;
    });

    app.post('/instances/:id/crash', { schema: { params: idParams } }, async (request) => {
      return sim.compute.crash((request.params as { id: string }).id);
    });

    // Fault hooks of managed databases: a node goes down (or comes back), a replica lags.
    app.put(
      '/databases/:id/nodes/:node/health',
      { schema: { params: nodeParams, body: healthBody } },
      async (request) => {
        const { id, node } = request.params as { id: string; node: string };
        return sim.database.setHealth(id, node, (request.body as { healthy: boolean }).healthy);
      },
    );

    app.put(
      '/databases/:id/nodes/:node/lag',
      { schema: { params: nodeParams, body: lagBody } },
      async (request) => {
        const { id, node } = request.params as { id: string; node: string };
        return sim.database.setLag(id, node, (request.body as { lagMs: number }).lagMs);
      },
    );

    app.put(
      '/instances/:id/load',
      { schema: { params: idParams, body: loadBody } },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        if (sim.compute.peek(id) === undefined) throw new NotFoundError(`instance/${id}`);
        sim.compute.setLoad(id, (request.body ?? {}) as object);
        return reply.code(204).send();
      },
    );
  };
}
