// The end-to-end test's verdicts fed known-bad input: each must report what is wrong, or a
// run with a duplicate, a lost request or a leftover would pass. No cluster needed.

import { describe, expect, it } from 'vitest';
import { builtinKinds } from '../../src/kinds/index.js';
import { summarizeAudit } from '../../src/sim/audit/summary.js';
import { createSimBackends } from '../../src/sim/index.js';
import {
  auditViolations,
  backendMismatches,
  KEY_LABEL,
  keysWithoutOneResource,
  leftovers,
  type ResourceView,
  unansweredRequests,
  unconverged,
  unsucceeded,
} from './checks.js';
import type { RequestRecord } from './client.js';
import { fixtureGaps, fixtureOf } from './fixtures.js';

const resource = (id: string, over: Partial<ResourceView> = {}): ResourceView => ({
  id,
  labels: { [KEY_LABEL]: `key-${id}` },
  generation: 1,
  status: { phase: 'Ready', observedGeneration: 1, outputs: { backendId: `b-${id}` } },
  ...over,
});

describe('the fixture table', () => {
  it('has an entry for every registered kind and none for a kind that is not registered', () => {
    expect(fixtureGaps(builtinKinds)).toEqual({ missing: [], stale: [] });
  });

  it('fails loudly, naming it, for a kind without a fixture', () => {
    const toy = { ...builtinKinds[0]!, name: 'toys' };
    expect(fixtureGaps([...builtinKinds, toy]).missing).toEqual(['toys']);
    expect(() => fixtureOf(toy)).toThrow('kind "toys" has no fixture in test/e2e/fixtures.ts');
    // A kind left out must be registered too: an entry of no kind is stale.
    expect(fixtureGaps(builtinKinds.filter((k) => k.name !== 'clusters')).stale).toEqual(['clusters']);
  });
});

describe('one resource per Idempotency-Key', () => {
  it('passes one each, and reports a key with two resources, one with none, and a stranger', () => {
    const good = [resource('a'), resource('b')];
    expect(keysWithoutOneResource(good, ['key-a', 'key-b'])).toEqual([]);
    const twice = resource('a2', { labels: { [KEY_LABEL]: 'key-a' } });
    expect(keysWithoutOneResource([...good, twice], ['key-a', 'key-b'])).toEqual([
      { key: 'key-a', resources: ['a', 'a2'] },
    ]);
    expect(keysWithoutOneResource([resource('a')], ['key-a', 'key-b'])).toEqual([
      { key: 'key-b', resources: [] },
    ]);
    expect(keysWithoutOneResource([...good, resource('c')], ['key-a', 'key-b'])).toEqual([
      { key: 'key-c', resources: ['c'] },
    ]);
  });
});

describe('the audit verdict', () => {
  it('passes a clean summary and reports a duplicate effect and a stale acceptance', async () => {
    const spec = { name: 'web', image: 'ubuntu', size: 'small' };
    const clean = createSimBackends();
    await clean.compute.createInstance(spec, { clientToken: 'job-1', fencingToken: 3 });
    await clean.compute.createInstance(spec, { clientToken: 'job-1', fencingToken: 3 });
    expect(auditViolations(summarizeAudit(clean.cloud.audit))).toEqual([]);

    // A cloud told not to enforce tokens lets the same job step have its effect twice, and a
    // deposed owner act after its successor.
    const { compute, cloud } = createSimBackends({ enforce: { clientTokens: false, fencing: false } });
    await compute.createInstance(spec, { clientToken: 'job-7', fencingToken: 3 });
    await compute.createInstance(spec, { clientToken: 'job-7', fencingToken: 3 });
    const [first] = (await compute.listInstances()).items;
    await compute.stopInstance(first!.id, { clientToken: 'stop-new', fencingToken: 4 });
    await compute.stopInstance(first!.id, { clientToken: 'stop-old', fencingToken: 3 });
    expect(auditViolations(summarizeAudit(cloud.audit))).toEqual([
      'compute.createInstance had 2 effects for client token job-7 (audit 1, 2)',
      `audit 4: instance/${first!.id} accepted fencing token 3 after 4`,
    ]);
  });

  it('does not pass a summary that says it is not ok, whatever its lists hold', () => {
    const summary = {
      calls: 1,
      outcomes: {},
      duplicates: [],
      staleRefusals: 0,
      staleAcceptances: [],
      ok: false,
    };
    expect(auditViolations(summary)).toEqual(['the summary is not ok']);
  });
});

describe('requests and convergence', () => {
  const record = (answer?: number): RequestRecord => ({
    method: 'POST',
    path: '/v1/networks',
    idempotencyKey: 'k',
    attempts: [{ replica: 0, startedAt: 0, replayed: false, failure: 'connection' }],
    ...(answer === undefined
      ? {}
      : { answer: { status: answer, body: { code: 'X' }, replayed: false, replica: 1 } }),
  });

  it('reports a request given up and one answered otherwise than expected', () => {
    const is202 = (s: number) => s === 202;
    expect(unansweredRequests([record(202)], is202)).toEqual([]);
    expect(unansweredRequests([record(), record(409)], is202)).toEqual([
      'POST /v1/networks (key k): no answer after connection',
      'POST /v1/networks (key k): answered 409 {"code":"X"} after connection',
    ]);
  });

  it('reports a resource not Ready, or Ready for an older generation, and an operation not succeeded', () => {
    expect(unconverged([resource('a')])).toEqual([]);
    const failed = resource('f', {
      status: {
        phase: 'Failed',
        observedGeneration: 1,
        conditions: [{ type: 'Ready', reason: 'Timeout', message: 'the pass took too long' }],
      },
    });
    const stale = resource('s', { generation: 2 });
    expect(unconverged([failed, stale])).toEqual([
      'f: Failed at observed generation 1 of 1 (Timeout: the pass took too long)',
      's: Ready at observed generation 1 of 2',
    ]);
    expect(unsucceeded([{ id: 'op1', state: 'succeeded' }])).toEqual([]);
    expect(unsucceeded([{ id: 'op2', state: 'failed', error: { reason: 'DeadLettered' } }])).toEqual([
      'op2: failed {"reason":"DeadLettered"}',
    ]);
  });
});

describe('what the cloud holds', () => {
  const truth = {
    instances: [{ id: 'b-live', name: 'live', labels: { 'stratus.io/resource-id': 'live' } }],
    networks: [{ id: 'b-net', name: 'net', attachments: ['b-live'] }],
  };

  it('finds nothing of a deleted resource in a clean truth, and finds it by id, name or label', () => {
    expect(leftovers(truth, [resource('gone')])).toEqual([]);
    const left = {
      ...truth,
      networks: [{ id: 'b-net', name: 'net', attachments: ['b-live', 'b-gone'] }],
      volumes: [{ id: 'v-1', name: 'x', labels: { 'stratus.io/resource-id': 'gone' } }],
    };
    expect(leftovers(left, [resource('gone')])).toEqual([
      'gone is still in the cloud at /networks/0/attachments/1',
      'gone is still in the cloud at /volumes/0/labels/stratus.io/resource-id',
    ]);
  });

  it('reports a live resource missing from the cloud, and one with two backend objects', () => {
    expect(backendMismatches(truth, [resource('live'), resource('net')])).toEqual([]);
    expect(backendMismatches(truth, [resource('lost')])).toEqual([
      'lost: backend b-lost is not in the cloud',
    ]);
    const twice = {
      ...truth,
      instances: [
        ...truth.instances,
        { id: 'b-live2', name: 'live', labels: { 'stratus.io/resource-id': 'live' } },
      ],
    };
    expect(backendMismatches(twice, [resource('live')])).toEqual([
      'live: 2 backend objects are named after it',
    ]);
  });
});
