// What drills read: the truth (everything that exists), the audit (filtered, or streamed
// as NDJSON, resumable from a `seq`), its summary, and a DNS lookup.

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RecordType } from '../../core/ports/dns.js';
import type { AuditEntry, AuditFilter } from '../audit/audit-log.js';
import { matchesAudit } from '../audit/audit-log.js';
import { summarizeAudit } from '../audit/summary.js';
import { twoWritable } from '../audit/two-writable.js';
import type { SimBackends } from '../index.js';

const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    backend: { enum: ['compute', 'network', 'storage', 'dns', 'loadBalancer', 'database', 'webhook'] },
    op: { type: 'string', minLength: 1 },
    resource: { type: 'string', minLength: 1 },
    clientToken: { type: 'string', minLength: 1 },
    caller: { type: 'string', minLength: 1 },
    outcome: { enum: ['created', 'replayed', 'refused-stale', 'conflict', 'failed'] },
    // A query string holds strings; the server coerces nothing (see app.ts), so numbers and
    // flags are matched as text and converted here.
    afterSeq: { type: 'string', pattern: '^[0-9]{1,15}$' },
    since: { type: 'string', pattern: '^[0-9]{1,15}$' },
    format: { enum: ['json', 'ndjson'] },
    follow: { enum: ['true', 'false'] },
  },
} as const;

const resolveQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253 },
    type: { enum: ['A', 'AAAA', 'CNAME', 'MX', 'SRV', 'TXT'] },
  },
} as const;

/** Everything that exists in the simulated cloud. */
export function truthOf(sim: SimBackends) {
  return {
    instances: sim.compute.all(),
    networks: sim.network.all().map((n) => ({ ...n, allocations: sim.network.allocations(n.id) })),
    volumes: sim.storage.all(),
    snapshots: sim.storage.allSnapshots(),
    zones: sim.dns.all(),
    loadBalancers: sim.loadBalancer.all(),
    databases: sim.database.all(),
    deliveries: sim.webhook.all(),
    runs: sim.runner.all(),
  };
}

/** Registers the read-only routes for drills. */
export function observeRoutes(sim: SimBackends) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/truth', async () => truthOf(sim));

    app.get('/audit/summary', async () => summarizeAudit(sim.cloud.audit));

    // Every change of who takes writes, and the instants with two writable primaries.
    app.get('/audit/databases', async () => {
      const history = sim.database.writableHistory();
      return { history, twoWritable: twoWritable(history) };
    });

    app.get('/audit', { schema: { querystring: auditQuery } }, async (request, reply) => {
      const { format, follow, afterSeq, since, ...rest } = request.query as Record<
        string,
        string | undefined
      >;
      const filter: AuditFilter = {
        ...rest,
        ...(afterSeq === undefined ? {} : { afterSeq: Number(afterSeq) }),
        ...(since === undefined ? {} : { since: Number(since) }),
      };
      if (format !== 'ndjson') return { entries: sim.cloud.auditLog.query(filter) };
      reply.type('application/x-ndjson');
      return reply.send(Readable.from(streamAudit(sim, filter, follow === 'true', reply.raw)));
    });

    app.get('/resolve', { schema: { querystring: resolveQuery } }, async (request) => {
      const { name, type } = request.query as { name: string; type?: RecordType };
      return sim.dns.resolve(name, type ?? 'A');
    });
  };
}

/** The entries passing `filter`, then (following) each new one until the client leaves. */
async function* streamAudit(
  sim: SimBackends,
  filter: AuditFilter,
  follow: boolean,
  response: NodeJS.EventEmitter,
): AsyncGenerator<string> {
  const queued: AuditEntry[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  // Subscribe before the replay so that no entry appended in between is missed.
  const unsubscribe = follow
    ? sim.cloud.auditLog.subscribe((entry) => {
        queued.push(entry);
        wake?.();
      })
    : () => {};
  const onClose = () => {
    closed = true;
    wake?.();
  };
  response.once('close', onClose);
  try {
    let last = 0;
    for (const entry of sim.cloud.auditLog.query(filter)) {
      last = entry.seq;
      yield `${JSON.stringify(entry)}\n`;
    }
    while (follow && !closed) {
      const entry = queued.shift();
      if (entry === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (entry.seq > last && matchesAudit(entry, filter)) yield `${JSON.stringify(entry)}\n`;
    }
  } finally {
    unsubscribe();
    response.off('close', onClose);
  }
}
