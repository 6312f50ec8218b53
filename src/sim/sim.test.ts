import { describe, expect, it } from 'vitest';
import {
  isConflictError,
  isNotFoundError,
  isStaleFencingTokenError,
  isUnavailableError,
} from '../core/errors/backend-errors.js';
import { ManualClock } from '../ha/resilience/clock.js';
import { settle } from '../ha/resilience/test-support.js';
import { createSimBackends } from './index.js';

const spec = { name: 'web', image: 'ubuntu', size: 'small' };

describe('simulated cloud in process', () => {
  it('returns the first result for a repeated client token, with no second effect', async () => {
    const { compute, cloud } = createSimBackends();
    const first = await compute.createInstance(spec, { clientToken: 'job-1' });
    const again = await compute.createInstance(spec, { clientToken: 'job-1' });
    expect(again).toEqual(first);
    expect((await compute.listInstances()).items).toHaveLength(1);
    expect(cloud.auditOf('job-1').map((e) => e.outcome)).toEqual(['created', 'replayed']);
  });

  it('refuses a client token reused with other parameters', async () => {
    const { storage } = createSimBackends();
    await storage.createVolume({ name: 'data', sizeGiB: 10 }, { clientToken: 'job-2' });
    const error = await storage
      .createVolume({ name: 'data', sizeGiB: 20 }, { clientToken: 'job-2' })
      .catch((e) => e);
    expect(isConflictError(error)).toBe(true);
  });

  it('records every destructive call in the audit log: op, resource, client token, time', async () => {
    let now = 1_700_000_000_000;
    const { compute, cloud } = createSimBackends({ wallClock: () => now++ });
    const instance = await compute.createInstance(spec, { clientToken: 'create-web', fencingToken: 3 });
    await compute.stopInstance(instance.id, { clientToken: 'stop-web' });
    await compute.deleteInstance(instance.id, { clientToken: 'delete-web' });
    await compute.deleteInstance(instance.id, { clientToken: 'delete-web' });
    await compute.getInstance('nope').catch(() => {});
    expect(
      cloud.audit.map(({ op, resource, clientToken, outcome }) => [op, resource, clientToken, outcome]),
    ).toEqual([
      ['createInstance', 'instance/name:web', 'create-web', 'created'],
      ['stopInstance', `instance/${instance.id}`, 'stop-web', 'created'],
      ['deleteInstance', `instance/${instance.id}`, 'delete-web', 'created'],
      ['deleteInstance', `instance/${instance.id}`, 'delete-web', 'replayed'],
    ]);
    expect(cloud.audit[0]).toMatchObject({ seq: 1, fencingToken: 3, backend: 'compute' });
    expect(cloud.audit.every((e, i) => i === 0 || e.at > cloud.audit[i - 1]!.at)).toBe(true);
  });

  it('refuses a fencing token older than the newest seen for the same resource', async () => {
    const { dns, cloud } = createSimBackends();
    const zone = await dns.createZone({ domain: 'example.test' }, { clientToken: 'z' });
    const record = { name: 'www', type: 'A', values: ['10.0.0.1'], ttl: 60 } as const;
    await dns.upsertRecord(zone.id, record, { clientToken: 'a', fencingToken: 7 });
    const stale = await dns
      .upsertRecord(zone.id, record, { clientToken: 'b', fencingToken: 6 })
      .catch((e) => e);
    expect(isStaleFencingTokenError(stale)).toBe(true);
    await dns.upsertRecord(zone.id, { ...record, name: 'api' }, { clientToken: 'c', fencingToken: 1 });
    expect(cloud.auditOf('b')[0]).toMatchObject({
      outcome: 'refused-stale',
      error: 'BACKEND_STALE_FENCING_TOKEN',
    });
  });

  it('injects errors, hangs and slowness per operation, and observes aborts', async () => {
    const clock = new ManualClock();
    const { network, cloud } = createSimBackends({ scheduler: clock });
    const lift = cloud.inject('network.getNetwork', { kind: 'error', times: 1 });
    expect(isUnavailableError(await network.getNetwork('x').catch((e) => e))).toBe(true);
    expect(isNotFoundError(await network.getNetwork('x').catch((e) => e))).toBe(true);
    lift();

    cloud.inject('network.listNetworks', { kind: 'slow', delayMs: 500 });
    let listed = false;
    const listing = network.listNetworks().then(() => {
      listed = true;
    });
    clock.advance(499);
    await settle();
    expect(listed).toBe(false);
    clock.advance(1);
    await listing;

    cloud.inject('network.*', { kind: 'hang' });
    const controller = new AbortController();
    const hung = network.ping({ signal: controller.signal }).catch((e) => e);
    clock.advance(1_000_000);
    const reason = new Error('gave up');
    controller.abort(reason);
    expect(await hung).toBe(reason);
    expect(cloud.aborts).toEqual([{ backend: 'network', op: 'ping', reason }]);
  });

  it('follows a log stream until its signal aborts', async () => {
    const { compute, cloud } = createSimBackends();
    const instance = await compute.createInstance(spec, { clientToken: 'c' });
    const controller = new AbortController();
    const lines = await compute.streamLogs(instance.id, { follow: true, signal: controller.signal });
    const it = lines[Symbol.asyncIterator]();
    expect((await it.next()).value?.line).toContain('created');
    const pending = it.next();
    compute.appendLog(instance.id, 'hello');
    expect((await pending).value?.line).toBe('hello');
    const ended = it.next().catch((e) => e);
    controller.abort(new Error('closed by caller'));
    expect(((await ended) as Error).message).toBe('closed by caller');
    expect(cloud.aborts.map((a) => a.op)).toEqual(['streamLogs']);
  });
});
