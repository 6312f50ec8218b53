// Networks, subnets, load balancers and DNS on real PostgreSQL with the in-process simulator:
// the overlap checks under concurrency, references inside arrays, per-type DNS validation,
// reconcile of each kind and the cascading delete.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlHarness, eventually, openControlHarness, TENANT_HEADER } from './harness.js';

type Json = Record<string, any>;

let h: ControlHarness;
beforeAll(async () => {
  h = await openControlHarness('pg');
  h.startWorker();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const send = async (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
  tenant = 'n1',
) => {
  const res = await h.app.inject({
    method,
    url,
    headers: { [TENANT_HEADER]: tenant },
    ...(payload ? { payload } : {}),
  });
  return { status: res.statusCode, body: (res.body ? res.json() : {}) as Json };
};
const created = async (url: string, payload: object, tenant = 'n1') => {
  const res = await send('POST', url, payload, tenant);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.resource as Json;
};
const ready = (kind: string, id: string, tenant = 'n1') =>
  eventually(
    async () => (await send('GET', `/v1/${kind}/${id}`, undefined, tenant)).body,
    (r) => r.status?.phase === 'Ready' || r.status?.phase === 'Failed',
    `${kind} ${id} settled`,
  );
const gone = (kind: string, id: string) =>
  eventually(
    async () => (await send('GET', `/v1/${kind}/${id}`)).status,
    (s) => s === 404,
    `${kind} ${id} gone`,
  );

/** Pairs of a tenant's networks whose ranges share an address (PostgreSQL's inet operators). */
const overlappingPairs = async (tenant: string) => {
  const res = await h.db.query(
    `SELECT count(*)::int AS n FROM stratus_resources a JOIN stratus_resources b
       ON a.id < b.id AND (a.spec->>'cidr')::cidr && (b.spec->>'cidr')::cidr
     WHERE a.tenant = $1 AND b.tenant = $1 AND a.kind = 'networks' AND b.kind = 'networks'`,
    [tenant],
  );
  return res.rows[0]!.n as number;
};

describe('network ranges', () => {
  it('of 20 parallel creates of overlapping networks in one tenant exactly one wins; the others are 409 naming /spec/cidr and the winner', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send(
          'POST',
          '/v1/networks',
          { name: `clash-${i}`, spec: { cidr: `10.50.0.0/${16 + (i % 9)}` } },
          'race',
        ),
      ),
    );
    const won = answers.filter((a) => a.status === 202);
    expect(won).toHaveLength(1);
    const winner = won[0]!.body.resource;
    for (const lost of answers.filter((a) => a.status !== 202)) {
      expect(lost.status).toBe(409);
      expect(lost.body.code).toBe('CONFLICT');
      expect(lost.body.errors).toEqual([{ path: '/spec/cidr', message: expect.stringContaining(winner.id) }]);
    }
    expect(await overlappingPairs('race')).toBe(0);
  });

  it('the overlap query above counts a pair of overlapping networks when one exists', async () => {
    // The known-bad case for the previous test's check: forge a second overlapping row.
    await h.db.query(
      `INSERT INTO stratus_resources (id, tenant, kind, name, spec, status, generation, resource_version)
       SELECT id || 'x', tenant, kind, name || '-forged', spec, status, 1, resource_version
       FROM stratus_resources WHERE tenant = 'race' AND kind = 'networks'`,
    );
    expect(await overlappingPairs('race')).toBe(1);
  });

  it('the check lets disjoint ranges through in parallel, and other tenants are not compared', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        send('POST', '/v1/networks', { name: `apart-${i}`, spec: { cidr: `10.60.${i}.0/24` } }, 'apart'),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    await created(
      '/v1/networks',
      { name: 'same-range-elsewhere', spec: { cidr: '10.60.0.0/24' } },
      'apart-2',
    );
  });

  it('subnets lie inside their network and apart from their siblings, also when created in parallel', async () => {
    const net = await created('/v1/networks', { name: 'sub-net', spec: { cidr: '10.70.0.0/16' } });
    const outside = await send('POST', '/v1/subnets', {
      name: 'outside',
      spec: { network: net.id, cidr: '10.71.0.0/24' },
    });
    expect(outside.status).toBe(409);
    expect(outside.body.errors).toEqual([
      { path: '/spec/cidr', message: expect.stringContaining('is not inside 10.70.0.0/16') },
    ]);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        send('POST', '/v1/subnets', {
          name: `sub-${i}`,
          spec: { network: net.id, cidr: i % 2 ? '10.70.0.0/23' : '10.70.0.0/24' },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.errors[0].path === '/spec/cidr')).toBe(
      true,
    );
    const second = await created('/v1/subnets', {
      name: 'sub-b',
      spec: { network: net.id, cidr: '10.70.8.0/24' },
    });
    expect((await ready('subnets', second.id)).status.phase).toBe('Ready');
  });

  it('a subnet deleted on its own goes: its operation succeeds, and then its network can go', async () => {
    const net = await created('/v1/networks', { name: 'del-net', spec: { cidr: '10.72.0.0/16' } });
    const sub = await created('/v1/subnets', {
      name: 'del-sub',
      spec: { network: net.id, cidr: '10.72.1.0/24' },
    });
    expect((await ready('subnets', sub.id)).status.phase).toBe('Ready');
    const del = await send('DELETE', `/v1/subnets/${sub.id}`);
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const op = await eventually(
      async () => (await send('GET', `/v1/operations/${del.body.operation.id}`)).body,
      (o) => o.state === 'succeeded' || o.state === 'failed',
      'subnet delete settled',
    );
    expect(op.state, JSON.stringify(op)).toBe('succeeded');
    expect((await send('GET', `/v1/subnets/${sub.id}`)).status).toBe(404);
    expect((await send('DELETE', `/v1/networks/${net.id}`)).status).toBe(202);
    await gone('networks', net.id);
  });
});

describe('load balancers', () => {
  it('array references: a missing, foreign and wrong-kind target is a 422 naming its index', async () => {
    const net = await created('/v1/networks', { name: 'lb-net', spec: { cidr: '10.80.0.0/24' } });
    const vm = await created('/v1/instances', {
      name: 'lb-vm',
      spec: { image: 'img', size: 'small', network: net.id },
    });
    const otherNet = await created('/v1/networks', { name: 'x-net', spec: { cidr: '10.80.0.0/24' } }, 'n2');
    const foreign = await created(
      '/v1/instances',
      { name: 'x-vm', spec: { image: 'img', size: 'small', network: otherNet.id } },
      'n2',
    );
    const res = await send('POST', '/v1/load-balancers', {
      name: 'bad-lb',
      spec: {
        network: net.id,
        listeners: [{ port: 80, protocol: 'http' }],
        algorithm: 'round-robin',
        healthCheck: { path: '/healthz', intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
        targets: [
          { instance: vm.id, port: 8080, weight: 1 },
          { instance: 'inst_00000000000000000000000000', port: 8080, weight: 1 },
          { instance: foreign.id, port: 8080, weight: 1 },
          { instance: net.id, port: 8080, weight: 1 },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: Json) => e.path)).toEqual([
      '/spec/targets/1/instance',
      '/spec/targets/2/instance',
      '/spec/targets/3/instance',
    ]);
  });

  it('validation names the field: a listener twice on one transport, a target twice, a bad algorithm', async () => {
    const net = await created('/v1/networks', { name: 'lbv-net', spec: { cidr: '10.81.0.0/24' } });
    const base = {
      network: net.id,
      listeners: [{ port: 80, protocol: 'http' }],
      algorithm: 'round-robin',
      healthCheck: { intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
      targets: [],
    };
    const cases: [object, string][] = [
      [
        {
          listeners: [
            { port: 80, protocol: 'http' },
            { port: 80, protocol: 'tcp' },
          ],
        },
        '/spec/listeners/1/port',
      ],
      [{ algorithm: 'random' }, '/spec/algorithm'],
      [{ listeners: [] }, '/spec/listeners'],
      [{ healthCheck: { ...base.healthCheck, intervalSeconds: 1 } }, '/spec/healthCheck/intervalSeconds'],
    ];
    for (const [change, path] of cases) {
      const res = await send('POST', '/v1/load-balancers', { name: 'v', spec: { ...base, ...change } });
      expect(res.status, JSON.stringify(change)).toBe(422);
      expect(res.body.errors.map((e: Json) => e.path)).toContain(path);
    }
  });

  it('reconciles with per-target health; the target instance cannot go while referenced, and a cascade from the network removes everything', async () => {
    const net = await created('/v1/networks', { name: 'app-net', spec: { cidr: '10.90.0.0/24' } });
    const vms = await Promise.all(
      [0, 1].map((i) =>
        created('/v1/instances', {
          name: `app-${i}`,
          spec: { image: 'img', size: 'small', network: net.id },
        }),
      ),
    );
    const lb = await created('/v1/load-balancers', {
      name: 'app-lb',
      spec: {
        network: net.id,
        listeners: [{ port: 443, protocol: 'https' }],
        algorithm: 'least-connections',
        healthCheck: { path: '/', intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
        targets: vms.map((vm) => ({ instance: vm.id, port: 8443, weight: 5 })),
      },
    });
    const zone = await created('/v1/dns-zones', { name: 'app-zone', spec: { domain: 'app.test' } });
    const rec = await created('/v1/dns-records', {
      name: 'app-0',
      spec: { zone: zone.id, name: 'app-0', type: 'A', ttl: 60, instance: vms[0]!.id },
    });
    const lbReady = await ready('load-balancers', lb.id);
    expect(lbReady.status.phase, JSON.stringify(lbReady.status)).toBe('Ready');
    expect(lbReady.status.outputs.targets).toHaveLength(2);
    for (const t of lbReady.status.outputs.targets)
      expect(t).toMatchObject({ port: 8443, weight: 5, healthy: expect.any(Boolean) });
    const vm0 = await ready('instances', vms[0]!.id);
    const recReady = await ready('dns-records', rec.id);
    expect(recReady.status.outputs.values).toEqual([vm0.status.outputs.address]);

    const refused = await send('DELETE', `/v1/instances/${vms[1]!.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('HAS_REFERRERS');
    expect(refused.body.detail).toContain(lb.id);
    const netRefused = await send('DELETE', `/v1/networks/${net.id}`);
    expect(netRefused.status).toBe(409);

    const cascade = await send('DELETE', `/v1/networks/${net.id}?cascade=true`);
    expect(cascade.status).toBe(202);
    const ops = await h.db.query(
      `SELECT resource_id FROM stratus_operations WHERE verb = 'delete' AND tenant = 'n1'`,
    );
    const deleting = new Set(ops.rows.map((r) => r.resource_id));
    for (const id of [net.id, lb.id, rec.id, ...vms.map((v) => v.id)])
      expect(deleting.has(id), id).toBe(true);
    await gone('networks', net.id);
    for (const [kind, id] of [
      ['load-balancers', lb.id],
      ['dns-records', rec.id],
      ['instances', vms[0]!.id],
      ['instances', vms[1]!.id],
    ] as const)
      expect((await send('GET', `/v1/${kind}/${id}`)).status).toBe(404);
    const [backendLbs, backendNets] = await Promise.all([
      h.ports.loadBalancer.listLoadBalancers({}),
      h.ports.network.listNetworks({}),
    ]);
    expect(backendLbs.items.find((b) => b.name === lb.id)).toBeUndefined();
    expect(backendNets.items.find((n) => n.name === net.id)).toBeUndefined();
  }, 60_000);
});

describe('dns', () => {
  it('validates the zone domain and each record type, naming the field', async () => {
    const badZone = await send('POST', '/v1/dns-zones', { name: 'z', spec: { domain: 'no_dots' } });
    expect(badZone.status).toBe(422);
    expect(badZone.body.errors[0].path).toBe('/spec/domain');
    const zone = await created('/v1/dns-zones', { name: 'v-zone', spec: { domain: 'valid.test' } });
    const cases: [string, unknown[], string][] = [
      ['A', ['10.0.0.1', '300.1.1.1'], '/spec/values/1'],
      ['AAAA', ['10.0.0.1'], '/spec/values/0'],
      ['CNAME', ['not a host'], '/spec/values/0'],
      ['CNAME', ['a.test', 'b.test'], '/spec/values'],
      ['TXT', ['x'.repeat(256)], '/spec/values/0'],
      ['MX', [{ priority: 10, host: 'bad host' }], '/spec/values/0/host'],
      ['MX', ['mail.test'], '/spec/values/0'],
      ['SRV', [{ priority: 1, weight: 1, port: 70_000, target: 'sip.test' }], '/spec/values/0'],
      ['SRV', [{ priority: 1, weight: 1, port: 5060, target: 'bad target' }], '/spec/values/0/target'],
    ];
    for (const [type, values, path] of cases) {
      const res = await send('POST', '/v1/dns-records', {
        name: 'r',
        spec: { zone: zone.id, name: 'www', type, ttl: 300, values },
      });
      expect(res.status, `${type} ${JSON.stringify(values)}`).toBe(422);
      expect(
        res.body.errors.map((e: Json) => e.path),
        `${type} ${JSON.stringify(values)}`,
      ).toContain(path);
    }
    const cname = await send('POST', '/v1/dns-records', {
      name: 'r',
      spec: {
        zone: zone.id,
        name: 'www',
        type: 'CNAME',
        ttl: 300,
        instance: 'inst_00000000000000000000000000',
      },
    });
    expect(cname.status).toBe(422);
    expect(cname.body.errors.map((e: Json) => e.path)).toContain('/spec/instance');
  });

  it('reconciles each type into the backend; a second record set of the same name and type is a 409', async () => {
    const zone = await created('/v1/dns-zones', { name: 'r-zone', spec: { domain: 'records.test' } });
    const specs: Json[] = [
      { name: 'www', type: 'A', values: ['192.0.2.1'] },
      { name: 'www', type: 'AAAA', values: ['2001:db8::1'] },
      { name: 'alias', type: 'CNAME', values: ['www.records.test'] },
      { name: '@', type: 'MX', values: [{ priority: 10, host: 'mail.records.test' }] },
      {
        name: '_sip._tcp',
        type: 'SRV',
        values: [{ priority: 1, weight: 5, port: 5060, target: 'sip.records.test' }],
      },
      { name: '@', type: 'TXT', values: ['v=spf1 -all'] },
    ];
    const records = await Promise.all(
      specs.map((s, i) =>
        created('/v1/dns-records', { name: `rec-${i}`, spec: { zone: zone.id, ttl: 300, ...s } }),
      ),
    );
    for (const r of records) expect((await ready('dns-records', r.id)).status.phase).toBe('Ready');
    const zoneReady = await ready('dns-zones', zone.id);
    const backend = await h.ports.dns.listRecords(zoneReady.status.outputs.backendId, {});
    expect(backend.items.find((r) => r.type === 'MX')?.values).toEqual(['10 mail.records.test']);
    expect(backend.items.find((r) => r.type === 'SRV')?.values).toEqual(['1 5 5060 sip.records.test']);
    const twice = await send('POST', '/v1/dns-records', {
      name: 'again',
      spec: { zone: zone.id, ttl: 60, name: 'www', type: 'A', values: ['192.0.2.2'] },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.errors[0].path).toBe('/spec/name');
  });
});
