// The OpenAPI document: valid for an independent validator, complete (every route the server
// registers is in it, and nothing else), and a kind registered here alone gets its operations
// and schemas in it with no other code.

import { Validator } from '@seriousme/openapi-schema-validator';
import pino from 'pino';
import { Registry } from 'prom-client';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlApi } from '../../src/api/resources/index.js';
import { buildServer } from '../../src/api/server.js';
import { defineKind } from '../../src/core/resources/kind.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import { builtinKinds } from '../../src/kinds/index.js';
import { Readiness } from '../../src/runtime/readiness.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read the document by path
type Json = Record<string, any>;

const GadgetSpec = Type.Object(
  { color: Type.String({ maxLength: 20 }), size: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
const GadgetOutputs = Type.Object({ color: Type.String() });

/** A kind defined in this file alone; its driver is never called here. */
const gadgets = defineKind({
  name: 'gadgets',
  idPrefix: 'gad',
  spec: GadgetSpec,
  outputs: GadgetOutputs,
  actions: {
    paint: {
      description: 'Paint a gadget',
      body: Type.Object({ color: Type.String({ maxLength: 20 }) }, { additionalProperties: false }),
      apply: (spec, body) => ({ spec: { ...spec, color: body.color as string } }),
    },
  },
  driver: () => {
    throw new Error('not reconciled in this test');
  },
});

const registry = () => new KindRegistry([...builtinKinds, gadgets]);

/** Method and path of every operation of a document, sorted. */
function operationsOf(doc: Json): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json))
    for (const method of ['get', 'post', 'put', 'patch', 'delete'])
      if (item[method]) out.push(`${method.toUpperCase()} ${path} ${item[method].operationId}`);
  return out.sort();
}

/** A component schema with every `$ref` replaced by its target, for TypeBox to check answers. */
function inlined(doc: Json, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inlined(doc, s));
  if (schema === null || typeof schema !== 'object') return schema;
  const target = (schema as Json).$ref as string | undefined;
  if (target) return inlined(doc, doc.components.schemas[target.split('/').at(-1)!]);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inlined(doc, v)]));
}

/** Whether `value` matches the named component schema of `doc`. */
function matches(doc: Json, name: string, value: unknown): boolean {
  // biome-ignore lint/suspicious/noExplicitAny: a JSON Schema read from the document
  return Compile(inlined(doc, doc.components.schemas[name]) as any).Check(value);
}

async function validate(doc: Json): Promise<{ valid: boolean; errors?: unknown }> {
  return new Validator().validate(structuredClone(doc));
}

describe('the OpenAPI document', () => {
  let h: ControlHarness;
  let doc: Json;
  beforeAll(async () => {
    h = await openControlHarness('pglite', { kinds: registry() });
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.json() as Json;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is a valid OpenAPI 3.1 document for an independent validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('the validator refuses a broken copy (no title, a parameter in nowhere)', async () => {
    const broken = structuredClone(doc);
    delete broken.info.title;
    expect((await validate(broken)).valid).toBe(false);
    const badParam = structuredClone(doc);
    badParam.paths['/v1/networks'].get.parameters[0].in = 'nowhere';
    expect((await validate(badParam)).valid).toBe(false);
  });

  it('lists these paths and operationIds', () => {
    expect(operationsOf(doc)).toEqual([
      'DELETE /v1/api-keys/{id} revokeApiKey',
      'DELETE /v1/autoscaling-groups/{id} deleteAutoscalingGroup',
      'DELETE /v1/clusters/{id} deleteCluster',
      'DELETE /v1/cron-jobs/{id} deleteCronJob',
      'DELETE /v1/databases/{id} deleteDatabase',
      'DELETE /v1/deployments/{id} deleteDeployment',
      'DELETE /v1/dns-records/{id} deleteDnsRecord',
      'DELETE /v1/dns-zones/{id} deleteDnsZone',
      'DELETE /v1/gadgets/{id} deleteGadget',
      'DELETE /v1/instances/{id} deleteInstance',
      'DELETE /v1/load-balancers/{id} deleteLoadBalancer',
      'DELETE /v1/networks/{id} deleteNetwork',
      'DELETE /v1/pipeline-runs/{id} deletePipelineRun',
      'DELETE /v1/pipelines/{id} deletePipeline',
      'DELETE /v1/snapshots/{id} deleteSnapshot',
      'DELETE /v1/subnets/{id} deleteSubnet',
      'DELETE /v1/volumes/{id} deleteVolume',
      'GET /healthz getHealth',
      'GET /metrics getMetrics',
      'GET /readyz getReadiness',
      'GET /v1/api-keys listApiKeys',
      'GET /v1/api-keys/{id} getApiKey',
      'GET /v1/autoscaling-groups listAutoscalingGroups',
      'GET /v1/autoscaling-groups/{id} getAutoscalingGroup',
      'GET /v1/billing/summary getBillingSummary',
      'GET /v1/clusters listClusters',
      'GET /v1/clusters/{id} getCluster',
      'GET /v1/cron-jobs listCronJobs',
      'GET /v1/cron-jobs/{id} getCronJob',
      'GET /v1/databases listDatabases',
      'GET /v1/databases/{id} getDatabase',
      'GET /v1/deployments listDeployments',
      'GET /v1/deployments/{id} getDeployment',
      'GET /v1/dns-records listDnsRecords',
      'GET /v1/dns-records/{id} getDnsRecord',
      'GET /v1/dns-zones listDnsZones',
      'GET /v1/dns-zones/{id} getDnsZone',
      'GET /v1/events listEvents',
      'GET /v1/gadgets listGadgets',
      'GET /v1/gadgets/{id} getGadget',
      'GET /v1/instance-types listInstanceTypes',
      'GET /v1/instances listInstances',
      'GET /v1/instances/{id} getInstance',
      'GET /v1/load-balancers listLoadBalancers',
      'GET /v1/load-balancers/{id} getLoadBalancer',
      'GET /v1/networks listNetworks',
      'GET /v1/networks/{id} getNetwork',
      'GET /v1/operations/{id} getOperation',
      'GET /v1/pipeline-runs listPipelineRuns',
      'GET /v1/pipeline-runs/{id} getPipelineRun',
      'GET /v1/pipelines listPipelines',
      'GET /v1/pipelines/{id} getPipeline',
      'GET /v1/snapshots listSnapshots',
      'GET /v1/snapshots/{id} getSnapshot',
      'GET /v1/subnets listSubnets',
      'GET /v1/subnets/{id} getSubnet',
      'GET /v1/tenants listTenants',
      'GET /v1/tenants/{id} getTenant',
      'GET /v1/usage listUsage',
      'GET /v1/volumes listVolumes',
      'GET /v1/volumes/{id} getVolume',
      'GET /v1/watch watchEvents',
      'PATCH /v1/autoscaling-groups/{id} patchAutoscalingGroup',
      'PATCH /v1/clusters/{id} patchCluster',
      'PATCH /v1/cron-jobs/{id} patchCronJob',
      'PATCH /v1/databases/{id} patchDatabase',
      'PATCH /v1/deployments/{id} patchDeployment',
      'PATCH /v1/dns-records/{id} patchDnsRecord',
      'PATCH /v1/dns-zones/{id} patchDnsZone',
      'PATCH /v1/gadgets/{id} patchGadget',
      'PATCH /v1/instances/{id} patchInstance',
      'PATCH /v1/load-balancers/{id} patchLoadBalancer',
      'PATCH /v1/networks/{id} patchNetwork',
      'PATCH /v1/pipeline-runs/{id} patchPipelineRun',
      'PATCH /v1/pipelines/{id} patchPipeline',
      'PATCH /v1/snapshots/{id} patchSnapshot',
      'PATCH /v1/subnets/{id} patchSubnet',
      'PATCH /v1/volumes/{id} patchVolume',
      'POST /v1/api-keys createApiKey',
      'POST /v1/autoscaling-groups createAutoscalingGroup',
      'POST /v1/autoscaling-groups/{id}/scale scaleAutoscalingGroup',
      'POST /v1/clusters createCluster',
      'POST /v1/clusters/{id}/repair repairCluster',
      'POST /v1/clusters/{id}/scale scaleCluster',
      'POST /v1/clusters/{id}/upgrade upgradeCluster',
      'POST /v1/cron-jobs createCronJob',
      'POST /v1/cron-jobs/{id}/pause pauseCronJob',
      'POST /v1/cron-jobs/{id}/resume resumeCronJob',
      'POST /v1/databases createDatabase',
      'POST /v1/databases/{id}/promote promoteDatabase',
      'POST /v1/databases/{id}/restore restoreDatabase',
      'POST /v1/databases/{id}/rotate-credentials rotateCredentialsDatabase',
      'POST /v1/databases/{id}/snapshot snapshotDatabase',
      'POST /v1/deployments createDeployment',
      'POST /v1/deployments/{id}/restart restartDeployment',
      'POST /v1/deployments/{id}/scale scaleDeployment',
      'POST /v1/dns-records createDnsRecord',
      'POST /v1/dns-zones createDnsZone',
      'POST /v1/gadgets createGadget',
      'POST /v1/gadgets/{id}/paint paintGadget',
      'POST /v1/instances createInstance',
      'POST /v1/instances/{id}/reboot rebootInstance',
      'POST /v1/instances/{id}/resize resizeInstance',
      'POST /v1/instances/{id}/start startInstance',
      'POST /v1/instances/{id}/stop stopInstance',
      'POST /v1/load-balancers createLoadBalancer',
      'POST /v1/networks createNetwork',
      'POST /v1/pipeline-runs createPipelineRun',
      'POST /v1/pipeline-runs/{id}/cancel cancelPipelineRun',
      'POST /v1/pipelines createPipeline',
      'POST /v1/snapshots createSnapshot',
      'POST /v1/subnets createSubnet',
      'POST /v1/tenants createTenant',
      'POST /v1/volumes createVolume',
      'POST /v1/volumes/{id}/attach attachVolume',
      'POST /v1/volumes/{id}/detach detachVolume',
    ]);
  });

  it('asks for a key on every /v1 operation (401, 403, 429 answers) and on nothing else', () => {
    expect(doc.security).toEqual([{ bearer: [] }, { apiKeyHeader: [] }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries(doc.paths as Json))
      for (const method of ['get', 'post', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        if (path.startsWith('/v1/'))
          for (const status of ['401', '403', '429'])
            expect(op.responses[status], `${method} ${path}`).toBeDefined();
        else expect(op.security, `${method} ${path}`).toEqual([]);
      }
  });

  it('gives the toy kind its operations and schemas from its own definition', () => {
    const schemas = doc.components.schemas as Json;
    expect(JSON.parse(JSON.stringify(schemas.GadgetSpec))).toEqual(JSON.parse(JSON.stringify(GadgetSpec)));
    expect(schemas.GadgetOutputs).toEqual(JSON.parse(JSON.stringify(GadgetOutputs)));
    expect(schemas.Gadget.properties.kind).toEqual({ type: 'string', const: 'gadgets' });
    expect(schemas.Gadget.properties.spec).toEqual({ $ref: '#/components/schemas/GadgetSpec' });
    expect(schemas.Gadget.properties.status.properties.outputs).toEqual({
      $ref: '#/components/schemas/GadgetOutputs',
    });
    expect(schemas.GadgetCreate.properties.spec).toEqual({ $ref: '#/components/schemas/GadgetSpec' });
    expect(schemas.GadgetCreate.required).toEqual(['name', 'spec']);
    const create = doc.paths['/v1/gadgets'].post;
    expect(create.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/GadgetCreate',
    });
    expect(create.responses['202'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/GadgetAccepted',
    });
    const paint = doc.paths['/v1/gadgets/{id}/paint'].post;
    expect(paint.summary).toBe('Paint a gadget');
    expect(paint.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/GadgetPaintBody',
    });
    expect(schemas.GadgetPaintBody.required).toEqual(['color']);
    expect(Object.keys(paint.responses)).toEqual(expect.arrayContaining(['200', '202', '409']));
  });

  it('names the shared schemas and every $ref resolves', () => {
    const schemas = doc.components.schemas as Json;
    for (const name of [
      'Network',
      'NetworkSpec',
      'Instance',
      'InstanceSpec',
      'Operation',
      'Problem',
      'Condition',
    ])
      expect(schemas[name], name).toBeDefined();
    const refs = JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g);
    let count = 0;
    for (const [, section, name] of refs) {
      count += 1;
      expect(doc.components[section!]?.[name!], `${section}/${name}`).toBeDefined();
    }
    expect(count).toBeGreaterThan(50);
  });

  it('describes errors as problem+json, Idempotency-Key and If-Match on mutations, 202 answers', () => {
    const patch = doc.paths['/v1/networks/{id}'].patch;
    const params = patch.parameters.map((p: Json) => p.$ref);
    expect(params).toEqual(['#/components/parameters/IdempotencyKey', '#/components/parameters/IfMatch']);
    expect(doc.components.parameters.IdempotencyKey.name).toBe('Idempotency-Key');
    expect(doc.components.parameters.IfMatch.name).toBe('If-Match');
    expect(Object.keys(patch.responses)).toEqual(
      expect.arrayContaining(['200', '202', '404', '409', '412', '422', '500']),
    );
    expect(doc.paths['/v1/networks/{id}'].delete.responses['202']).toBeDefined();
    expect(doc.components.responses.Problem412.content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    // The list query is the route's own schema: its bounds are the ones the route enforces.
    const limit = doc.paths['/v1/networks'].get.parameters.find((p: Json) => p.name === 'limit');
    expect(limit).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 500 },
    });
  });

  it('an error answer of the API matches the Problem schema’s fields', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/networks?limit=0' });
    expect(res.statusCode).toBe(400);
    const problem = res.json() as Json;
    const schema = doc.components.schemas.Problem;
    for (const field of schema.required) expect(problem, field).toHaveProperty(field);
    for (const field of Object.keys(problem)) expect(schema.properties, field).toHaveProperty(field);
  });

  it('real answers match their schemas (and a wrong one does not)', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/networks',
      headers: { [TENANT_HEADER]: 't1' },
      payload: { name: 'doc', labels: { env: 'test' }, spec: { cidr: '10.1.0.0/24' } },
    });
    expect(created.statusCode).toBe(202);
    const accepted = created.json() as Json;
    expect(matches(doc, 'NetworkAccepted', accepted)).toBe(true);
    expect(matches(doc, 'InstanceAccepted', accepted)).toBe(false);
    const page = await h.app.inject({
      method: 'GET',
      url: '/v1/networks',
      headers: { [TENANT_HEADER]: 't1' },
    });
    expect(matches(doc, 'NetworksPage', page.json())).toBe(true);
    const op = await h.app.inject({
      method: 'GET',
      url: `/v1/operations/${accepted.operation.id}`,
      headers: { [TENANT_HEADER]: 't1' },
    });
    expect(matches(doc, 'OperationView', op.json())).toBe(true);
    expect(
      matches(doc, 'Problem', (await h.app.inject({ method: 'GET', url: '/v1/networks/nope' })).json()),
    ).toBe(true);
  });

  it('/docs renders every operation with nothing fetched from elsewhere', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    for (const line of operationsOf(doc)) expect(res.body).toContain(line.split(' ').at(-1));
    expect(res.body).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(res.body).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
  });
});

describe('the document and the server', () => {
  it('documents exactly the routes the server registers', async () => {
    const routes: string[] = [];
    const kinds = registry();
    const server = await buildServer({
      logger: pino({ level: 'silent' }),
      readiness: new Readiness([]),
      registry: new Registry(),
      routes: async (app) => {
        app.addHook('onRoute', (route) => {
          for (const method of [route.method].flat())
            if (method !== 'HEAD') routes.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
        });
        // The routes are only registered here, never called: no service is needed.
        await controlApi(app, {
          service: {} as never,
          events: {} as never,
          auth: {} as never,
          kinds,
          usage: {} as never,
          system: { service: {} as never },
        });
      },
    });
    try {
      const doc = (await server.inject({ method: 'GET', url: '/openapi.json' })).json() as Json;
      const documented = operationsOf(doc).map((line) => line.split(' ').slice(0, 2).join(' '));
      const served = [...routes.filter((r) => !r.endsWith(' /openapi.json') && !r.endsWith(' /docs'))];
      // Health and metrics are registered before the hook; they are in the document by hand.
      served.push('GET /healthz', 'GET /readyz', 'GET /metrics');
      expect(documented).toEqual(served.sort());
    } finally {
      await server.close();
    }
  });
});
