// One request, one connected trace, across processes: an api replica, a worker replica and
// `stratus sim`, on PostgreSQL and Redis, each exporting over OTLP to a collector of the
// test's. The create's server span (api), the job's consumer span (worker, continued from the
// traceparent the job envelope carried through the outbox and the queue) and the backend
// calls under it (worker) must form one tree.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { killAllStratus } from '../helpers/stratus-process.js';
import { type Cluster, startCluster } from './cluster.js';
import { type Collector, type ReceivedSpan, startCollector, traceProblems } from './otlp-collector.js';

// OTLP/JSON span kinds (the protocol's numbering).
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

const span = (s: Partial<ReceivedSpan> & Pick<ReceivedSpan, 'spanId' | 'parentSpanId'>): ReceivedSpan => ({
  traceId: 't1',
  name: s.spanId,
  kind: 1,
  attributes: {},
  node: 'n',
  status: 0,
  ...s,
});

describe('traceProblems', () => {
  it('passes one tree and fails a second root, a dangling parent and an empty trace', () => {
    const tree = [
      span({ spanId: 'a', parentSpanId: '' }),
      span({ spanId: 'b', parentSpanId: 'a' }),
      span({ spanId: 'c', parentSpanId: 'b' }),
    ];
    expect(traceProblems(tree, 't1')).toEqual([]);
    expect(traceProblems([...tree, span({ spanId: 'd', parentSpanId: '' })], 't1')).toHaveLength(2);
    expect(traceProblems([...tree, span({ spanId: 'e', parentSpanId: 'zz' })], 't1')).toEqual([
      'root span "a" (n)',
      'span "e" (n) has parent zz, which is not in the trace',
    ]);
    expect(traceProblems(tree, 't2')).toEqual(['no span of trace t2']);
  });
});

describe('tracing across api, outbox, queue, worker and backend', () => {
  let t: TestDatabase;
  const redis = testRedisPrefix();
  let collector: Collector;
  let cluster: Cluster;

  beforeAll(async () => {
    collector = await startCollector();
    t = await createTestDatabase();
    cluster = await startCluster({
      databaseUrl: t.url,
      redisUrl: REDIS_URL,
      redisPrefix: redis.prefix,
      apis: 1,
      workers: 1,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
    });
  }, 120_000);

  afterAll(async () => {
    await killAllStratus();
    await collector?.close();
    await redis.cleanup();
    await t?.drop();
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, cluster.replicas.find((r) => r.role === 'api')!.url), {
      ...init,
      headers: {
        authorization: `Bearer ${cluster.apiKey}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });

  it("a create yields one trace from the request to the backend call, continuing the caller's traceparent", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const created = await api('/v1/networks', {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-${callerSpan}-01`, 'idempotency-key': 'trace-1' },
      body: JSON.stringify({ name: 'traced', spec: { cidr: '10.42.0.0/24' } }),
    });
    expect(created.status).toBe(202);
    const { operation } = (await created.json()) as { operation: { id: string } };
    const done = await api(`/v1/operations/${operation.id}?wait=30s`);
    expect(((await done.json()) as { state: string }).state).toBe('succeeded');

    // Spans arrive in batches, each process on its own schedule.
    const ofTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    await until(
      () => {
        const mine = ofTrace();
        return [SERVER, CONSUMER, CLIENT].every((kind) => mine.some((s) => s.kind === kind));
      },
      20_000,
      "the api's and the worker's spans of the trace",
      50,
    );
    const mine = ofTrace();
    const server = mine.filter((s) => s.kind === SERVER);
    expect(server.map((s) => [s.name, s.node, s.parentSpanId])).toEqual([
      ['POST /v1/networks', 'e2e-api-1', callerSpan],
    ]);
    expect(server[0]!.attributes['http.response.status_code']).toBe(202);
    const job = mine.filter((s) => s.kind === CONSUMER);
    expect(job.map((s) => [s.name, s.node, s.parentSpanId])).toEqual([
      ['reconcile networks', 'e2e-worker-1', server[0]!.spanId],
    ]);
    expect(job[0]!.attributes).toMatchObject({
      'stratus.job.key': expect.stringMatching(/^reconcile\/networks\/net_.+\/1$/),
      'stratus.job.attempt': 1,
      'stratus.job.outcome': 'applied',
    });
    const calls = mine.filter((s) => s.kind === CLIENT);
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.node).toBe('e2e-worker-1');
      expect(c.name).toMatch(/^network\./);
    }
    expect(
      calls.some((c) => c.attributes['stratus.client_token'] === job[0]!.attributes['stratus.job.key']),
    ).toBe(true);
    // One tree: the caller's span is the only parent outside it.
    expect(traceProblems(mine, traceId)).toEqual([]);
  });

  it('a request without a traceparent starts a trace of its own, and a 4xx is not marked as an error', async () => {
    const bad = await api('/v1/networks', {
      method: 'POST',
      body: JSON.stringify({ name: 'bad', spec: { cidr: 'not-a-cidr' } }),
    });
    expect(bad.status).toBe(422);
    await until(
      () =>
        collector.spans.some((s) => s.kind === SERVER && s.attributes['http.response.status_code'] === 422),
      20_000,
      'the span of the refused request',
      50,
    );
    const refused = collector.spans.find(
      (s) => s.kind === SERVER && s.attributes['http.response.status_code'] === 422,
    )!;
    expect(refused.parentSpanId).toBe('');
    expect(refused.status).not.toBe(2);
    expect(collector.spans.filter((s) => s.traceId === refused.traceId && s.kind === CONSUMER)).toEqual([]);
  });
});
