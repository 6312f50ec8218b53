// Bad input the schema checks alone let through, or answered without naming the field:
// a NUL character anywhere, fault rules and profiles with unknown or mistyped fields, an
// operation name a backend does not have, a body past the size limit, a media type that
// is not JSON. Each must come back as a 4xx problem document naming the field.

import { describe, expect, it } from 'vitest';
import { createSimBackends } from '../index.js';
import { buildSimServer } from './app.js';

const TOKEN = 'admin-token-for-tests';
const auth = { authorization: `Bearer ${TOKEN}` };
const createInstance = '/v1/compute/createInstance';
const spec = { name: 'web', image: 'ubuntu', size: 'small' };
const outage = { kind: 'outage' } as const;

interface Case {
  readonly title: string;
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly url: string;
  /** A JSON value, or the raw text of the body when a string. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly field: string;
}

const cases: Case[] = [
  {
    title: 'a NUL in a port parameter',
    url: createInstance,
    body: { spec: { ...spec, name: 'we\u0000b' }, options: { clientToken: 't' } },
    status: 400,
    field: 'body.spec.name',
  },
  {
    title: 'a NUL in a label name',
    url: createInstance,
    body: { spec: { ...spec, labels: { 'a\u0000': 'b' } }, options: { clientToken: 't' } },
    status: 400,
    field: 'body.spec.labels',
  },
  {
    title: 'a NUL in a list element',
    url: '/v1/loadBalancer/updateTargets',
    body: { id: 'lb-1', targets: [{ address: '10.0.0.1\u0000', port: 80 }], options: { clientToken: 't' } },
    status: 400,
    field: 'body.targets.0.address',
  },
  {
    title: 'a NUL in a query',
    method: 'GET',
    url: '/audit?caller=a%00b',
    status: 400,
    field: 'querystring.caller',
  },
  {
    title: 'a NUL in a fault rule',
    url: '/faults',
    headers: auth,
    body: { backend: 'dns', resource: 'zone/\u0000', effect: outage },
    status: 400,
    field: 'body.resource',
  },
  {
    title: 'a wrong type in a port parameter',
    url: createInstance,
    body: { spec: { ...spec, size: 2 }, options: { clientToken: 't' } },
    status: 400,
    field: 'body.spec.size',
  },
  {
    title: 'a string where a balancer port goes',
    url: '/v1/loadBalancer/createLoadBalancer',
    body: {
      spec: { name: 'lb', listeners: [{ port: '80', protocol: 'http' }] },
      options: { clientToken: 't' },
    },
    status: 400,
    field: 'body.spec.listeners.0.port',
  },
  {
    title: 'a balancer listener of an unknown protocol',
    url: '/v1/loadBalancer/createLoadBalancer',
    body: {
      spec: { name: 'lb', listeners: [{ port: 80, protocol: 'quic' }] },
      options: { clientToken: 't' },
    },
    status: 400,
    field: 'body.spec.listeners.0.protocol',
  },
  {
    title: 'a balancer with both listenPort and listeners',
    url: '/v1/loadBalancer/createLoadBalancer',
    body: {
      spec: { name: 'lb', listenPort: 80, listeners: [{ port: 80, protocol: 'http' }] },
      options: { clientToken: 't' },
    },
    status: 400,
    field: 'body.spec.listeners',
  },
  {
    title: 'a balancer with neither listenPort nor listeners',
    url: '/v1/loadBalancer/createLoadBalancer',
    body: { spec: { name: 'lb' }, options: { clientToken: 't' } },
    status: 400,
    field: 'body.spec.listeners',
  },
  {
    title: 'an unknown field of a fault rule',
    url: '/faults',
    headers: auth,
    body: { backend: 'dns', effect: outage, bogus: 1 },
    status: 400,
    field: 'bogus',
  },
  {
    title: 'an unknown field of a fault effect',
    url: '/faults',
    headers: auth,
    body: { backend: 'dns', effect: { kind: 'outage', probability: 0.5 } },
    status: 400,
    field: 'effect.probability',
  },
  {
    title: 'an operation the backend does not have',
    url: '/faults',
    headers: auth,
    body: { backend: 'dns', operation: 'createInstance', effect: outage },
    status: 400,
    field: 'operation',
  },
  {
    title: 'a stream effect on an operation that is not a stream',
    url: '/faults',
    headers: auth,
    body: { backend: 'compute', operation: 'getInstance', effect: { kind: 'cut-stream', afterItems: 1 } },
    status: 400,
    field: 'effect.kind',
  },
  {
    title: 'a fractional count of calls',
    url: '/faults',
    headers: auth,
    body: { backend: 'dns', effect: outage, times: 1.5 },
    status: 400,
    field: 'times',
  },
  {
    title: 'a wrong type for a schedule',
    url: '/faults',
    headers: auth,
    body: { backend: 'dns', effect: outage, afterMs: '10' },
    status: 400,
    field: 'afterMs',
  },
  {
    title: 'an empty list of fault rules',
    url: '/faults',
    headers: auth,
    body: [],
    status: 400,
    field: 'body',
  },
  {
    title: 'an unknown field of a profile',
    method: 'PUT',
    url: '/profile',
    headers: auth,
    body: { name: 'p', crashesPerhour: 1 },
    status: 400,
    field: 'crashesPerhour',
  },
  {
    title: 'a load model of the wrong type',
    method: 'PUT',
    url: '/profile',
    headers: auth,
    body: { name: 'p', load: 'heavy' },
    status: 400,
    field: 'load',
  },
  {
    title: 'a load model field out of range',
    method: 'PUT',
    url: '/profile',
    headers: auth,
    body: { name: 'p', load: { cpuMean: 3 } },
    status: 400,
    field: 'load.cpuMean',
  },
  {
    title: 'a stage selector of the wrong type',
    method: 'PUT',
    url: '/profile',
    headers: auth,
    body: {
      name: 'p',
      stages: [
        {
          name: 'x',
          kind: 'instance',
          from: 'pending',
          to: 'running',
          delay: { kind: 'fixed', ms: 0 },
          selector: { labels: 'web' },
        },
      ],
    },
    status: 400,
    field: 'stages[0].selector.labels',
  },
  {
    title: 'a body past the size limit',
    url: createInstance,
    body: { spec: { ...spec, name: 'x'.repeat(2 * 1024 * 1024) }, options: { clientToken: 't' } },
    status: 413,
    field: 'body',
  },
  {
    title: 'a body that is not JSON',
    url: createInstance,
    headers: { 'content-type': 'text/plain' },
    body: 'name=web',
    status: 415,
    field: 'body',
  },
];

describe('simulator routes name the field of bad input the schemas let through', () => {
  it.each(cases)('$title', async ({ method = 'POST', url, body, headers = {}, status, field }) => {
    const sim = createSimBackends();
    const { app } = buildSimServer({ sim, adminToken: TOKEN });
    const raw = typeof body === 'string';
    const response = await app.inject({
      method,
      url,
      headers: { ...(raw || body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: raw ? body : JSON.stringify(body) }),
    });
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect({ status: response.statusCode, field: response.json().field }).toEqual({ status, field });
    // Nothing was created and no rule was added by a refused call.
    expect(sim.compute.all()).toEqual([]);
    expect(sim.cloud.faults.list()).toEqual([]);
  });
});
