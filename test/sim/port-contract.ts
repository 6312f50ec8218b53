// The contract of the five backend ports, run against every implementation: the
// in-process simulated cloud and `stratus sim` through the HTTP adapter. Each test works
// under its own label and tokens, so implementations may share one cloud across tests.

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  isConflictError,
  isInvalidInputError,
  isNotFoundError,
  isStaleFencingTokenError,
} from '../../src/core/errors/backend-errors.js';
import type { BackendKind, BackendPorts } from '../../src/core/ports/index.js';

const KINDS: readonly BackendKind[] = [
  'compute',
  'network',
  'storage',
  'dns',
  'loadBalancer',
  'webhook',
  'runner',
];

/** Runs the contract against the ports `connect` returns. */
export function portContract(name: string, connect: () => BackendPorts): void {
  const fresh = () => {
    const run = randomUUID().slice(0, 8);
    return { ports: connect(), run, token: (t: string) => `${run}-${t}`, labels: { run } };
  };
  const error = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e,
    );

  describe(`backend port contract: ${name}`, () => {
    it('answers a ping on every port', async () => {
      const { ports } = fresh();
      for (const kind of KINDS) await expect(ports[kind].ping()).resolves.toBeUndefined();
    });

    it('creates an instance once per client token; other parameters are a conflict', async () => {
      const { ports, token, labels, run } = fresh();
      const spec = { name: `web-${run}`, image: 'ubuntu', size: 'small', labels };
      const first = await ports.compute.createInstance(spec, { clientToken: token('c') });
      expect(first).toMatchObject({ ...spec, state: 'running', tenant: 'default' });
      expect(await ports.compute.createInstance(spec, { clientToken: token('c') })).toEqual(first);
      expect(await ports.compute.getInstance(first.id)).toEqual(first);
      const clash = await error(
        ports.compute.createInstance({ ...spec, size: 'large' }, { clientToken: token('c') }),
      );
      expect(isConflictError(clash)).toBe(true);
      expect((await ports.compute.listInstances({ labels })).items).toEqual([first]);
    });

    it('stops, starts and deletes an instance; a deleted one is not found', async () => {
      const { ports, token, labels, run } = fresh();
      const { id } = await ports.compute.createInstance(
        { name: `db-${run}`, image: 'pg', size: 'medium', labels },
        { clientToken: token('c') },
      );
      expect((await ports.compute.stopInstance(id, { clientToken: token('s') })).state).toBe('stopped');
      expect((await ports.compute.startInstance(id, { clientToken: token('b') })).state).toBe('running');
      await expect(ports.compute.deleteInstance(id, { clientToken: token('d') })).resolves.toBeUndefined();
      await expect(ports.compute.deleteInstance(id, { clientToken: token('d') })).resolves.toBeUndefined();
      expect(isNotFoundError(await error(ports.compute.getInstance(id)))).toBe(true);
      expect(isNotFoundError(await error(ports.compute.stopInstance(id, { clientToken: token('x') })))).toBe(
        true,
      );
    });

    it('refuses an older fencing token for the same resource with its own error', async () => {
      const { ports, token, labels, run } = fresh();
      const { id } = await ports.compute.createInstance(
        { name: `f-${run}`, image: 'ubuntu', size: 'small', labels },
        { clientToken: token('c') },
      );
      await ports.compute.stopInstance(id, { clientToken: token('s1'), fencingToken: 9 });
      const stale = await error(
        ports.compute.startInstance(id, { clientToken: token('s2'), fencingToken: 8 }),
      );
      expect(isStaleFencingTokenError(stale)).toBe(true);
      expect(stale).toMatchObject({ resource: `instance/${id}`, presented: 8, newest: 9 });
      expect(
        (await ports.compute.startInstance(id, { clientToken: token('s3'), fencingToken: 9 })).state,
      ).toBe('running');
    });

    it('resizes an instance once per client token, running or stopped, fenced like the others', async () => {
      const { ports, token, labels, run } = fresh();
      const { id } = await ports.compute.createInstance(
        { name: `rs-${run}`, image: 'ubuntu', size: 'small', labels },
        { clientToken: token('c') },
      );
      const grown = await ports.compute.resizeInstance(id, 'large', {
        clientToken: token('r1'),
        fencingToken: 5,
      });
      expect(grown).toMatchObject({ id, size: 'large', state: 'running' });
      expect(
        await ports.compute.resizeInstance(id, 'large', { clientToken: token('r1'), fencingToken: 5 }),
      ).toEqual(grown);
      expect(
        isConflictError(
          await error(ports.compute.resizeInstance(id, 'medium', { clientToken: token('r1') })),
        ),
      ).toBe(true);
      const stale = await error(
        ports.compute.resizeInstance(id, 'medium', { clientToken: token('r2'), fencingToken: 4 }),
      );
      expect(isStaleFencingTokenError(stale)).toBe(true);
      expect((await ports.compute.getInstance(id)).size).toBe('large');
      await ports.compute.stopInstance(id, { clientToken: token('s'), fencingToken: 5 });
      expect(
        await ports.compute.resizeInstance(id, 'medium', { clientToken: token('r3'), fencingToken: 5 }),
      ).toMatchObject({ size: 'medium', state: 'stopped' });
      expect(
        isInvalidInputError(
          await error(ports.compute.resizeInstance(id, 'galactic', { clientToken: token('r4') })),
        ),
      ).toBe(true);
      expect(
        isNotFoundError(
          await error(ports.compute.resizeInstance('i-none', 'small', { clientToken: token('r5') })),
        ),
      ).toBe(true);
    });

    it('refuses what the catalogue does not hold as invalid input', async () => {
      const { ports, token, run } = fresh();
      const bad = await error(
        ports.compute.createInstance(
          { name: `x-${run}`, image: 'u', size: 'galactic' },
          { clientToken: token('c') },
        ),
      );
      expect(isInvalidInputError(bad)).toBe(true);
    });

    it('reads a log stream and a stats sample of an instance', async () => {
      const { ports, token, labels, run } = fresh();
      const { id } = await ports.compute.createInstance(
        { name: `l-${run}`, image: 'alpine', size: 'small', labels },
        { clientToken: token('c') },
      );
      const lines: string[] = [];
      for await (const line of await ports.compute.streamLogs(id)) lines.push(line.line);
      expect(lines).toEqual([`instance ${id} created from alpine`]);
      const controller = new AbortController();
      const stats = (await ports.compute.streamStats(id, { signal: controller.signal }))[
        Symbol.asyncIterator
      ]();
      const { value } = await stats.next();
      expect(value).toMatchObject({ memoryBytes: 1024 * 1024 * 1024 });
      expect(value!.cpu).toBeGreaterThanOrEqual(0);
      await stats.return?.();
      controller.abort();
      expect(isNotFoundError(await error(ports.compute.streamLogs('i-none')))).toBe(true);
    });

    it('hands out distinct addresses and keeps a network with attachments', async () => {
      const { ports, token, labels, run } = fresh();
      const net = await ports.network.createNetwork(
        { name: `n-${run}`, cidr: '10.9.0.0/29', labels },
        { clientToken: token('n') },
      );
      const a = await ports.network.allocateIp(net.id, { clientToken: token('a1') });
      const b = await ports.network.allocateIp(net.id, { clientToken: token('a2') });
      expect(a.address).not.toBe(b.address);
      expect(await ports.network.allocateIp(net.id, { clientToken: token('a1') })).toEqual(a);
      await ports.network.releaseIp(a, { clientToken: token('r') });
      const attached = await ports.network.attach(
        { networkId: net.id, instanceId: 'i-x' },
        { clientToken: token('at') },
      );
      expect(attached.attachments).toEqual(['i-x']);
      expect(
        isConflictError(await error(ports.network.deleteNetwork(net.id, { clientToken: token('d1') }))),
      ).toBe(true);
      await ports.network.detach({ networkId: net.id, instanceId: 'i-x' }, { clientToken: token('de') });
      await ports.network.deleteNetwork(net.id, { clientToken: token('d2') });
      expect(isNotFoundError(await error(ports.network.getNetwork(net.id)))).toBe(true);
      const badCidr = await error(
        ports.network.createNetwork({ name: `b-${run}`, cidr: '10.0.0.0/33' }, { clientToken: token('b') }),
      );
      expect(isInvalidInputError(badCidr)).toBe(true);
    });

    it('allocates in a named subnet and names an unknown one', async () => {
      const { ports, token, run } = fresh();
      const subnets = [{ name: 'web', cidr: '10.8.1.0/28' }];
      const net = await ports.network.createNetwork(
        { name: `s-${run}`, cidr: '10.8.0.0/16', subnets },
        { clientToken: token('n') },
      );
      expect(net.subnets).toEqual(subnets);
      const ip = await ports.network.allocateIp(net.id, { clientToken: token('a'), subnet: 'web' });
      expect(ip).toEqual({ networkId: net.id, address: '10.8.1.2', subnet: 'web' });
      await ports.network.releaseIp(ip, { clientToken: token('r') });
      expect(
        isNotFoundError(
          await error(ports.network.allocateIp(net.id, { clientToken: token('b'), subnet: 'db' })),
        ),
      ).toBe(true);
    });

    it('attaches a volume to one instance at a time, and only grows it', async () => {
      const { ports, token, labels, run } = fresh();
      const { id: instanceId } = await ports.compute.createInstance(
        { name: `v-${run}`, image: 'u', size: 'small' },
        { clientToken: token('i') },
      );
      const volume = await ports.storage.createVolume(
        { name: `v-${run}`, sizeGiB: 10, labels },
        { clientToken: token('v') },
      );
      const attached = await ports.storage.attachVolume(
        { volumeId: volume.id, instanceId },
        { clientToken: token('a') },
      );
      expect(attached.attachedTo).toBe(instanceId);
      const elsewhere = await error(
        ports.storage.attachVolume(
          { volumeId: volume.id, instanceId: 'i-other' },
          { clientToken: token('a2') },
        ),
      );
      expect(isConflictError(elsewhere)).toBe(true);
      expect(
        isConflictError(await error(ports.storage.deleteVolume(volume.id, { clientToken: token('d') }))),
      ).toBe(true);
      await ports.storage.detachVolume({ volumeId: volume.id, instanceId }, { clientToken: token('de') });
      expect((await ports.storage.resizeVolume(volume.id, 20, { clientToken: token('g') })).sizeGiB).toBe(20);
      expect(
        isInvalidInputError(
          await error(ports.storage.resizeVolume(volume.id, 5, { clientToken: token('s') })),
        ),
      ).toBe(true);
      expect((await ports.storage.listVolumes({ labels })).items).toHaveLength(1);
    });

    it('snapshots a volume and restores it into a new one no smaller', async () => {
      const { ports, token, labels, run } = fresh();
      const volume = await ports.storage.createVolume(
        { name: `s-${run}`, sizeGiB: 8 },
        { clientToken: token('v') },
      );
      const snapshot = await ports.storage.createSnapshot(
        { name: `s-${run}`, volumeId: volume.id, labels },
        { clientToken: token('s') },
      );
      expect(snapshot).toMatchObject({ volumeId: volume.id, sizeGiB: 8 });
      await ports.storage.deleteVolume(volume.id, { clientToken: token('d') });
      expect((await ports.storage.listSnapshots({ labels })).items).toEqual([snapshot]);
      const small = await error(
        ports.storage.createVolume(
          { name: `r-${run}`, sizeGiB: 4, fromSnapshot: snapshot.id },
          { clientToken: token('r1') },
        ),
      );
      expect(isInvalidInputError(small)).toBe(true);
      const restored = await ports.storage.createVolume(
        { name: `r-${run}`, sizeGiB: 16, fromSnapshot: snapshot.id },
        { clientToken: token('r2') },
      );
      expect(restored.fromSnapshot).toBe(snapshot.id);
      await ports.storage.deleteSnapshot(snapshot.id, { clientToken: token('ds') });
      expect(
        isNotFoundError(
          await error(ports.storage.deleteSnapshot(snapshot.id, { clientToken: token('ds2') })),
        ),
      ).toBe(true);
      const orphan = await error(
        ports.storage.createSnapshot({ name: `o-${run}`, volumeId: 'vol-none' }, { clientToken: token('o') }),
      );
      expect(isNotFoundError(orphan)).toBe(true);
    });

    it('keeps zones and record sets', async () => {
      const { ports, token, labels, run } = fresh();
      const zone = await ports.dns.createZone({ domain: `${run}.test`, labels }, { clientToken: token('z') });
      const record = { name: 'www', type: 'A', values: ['10.0.0.5'], ttl: 60 } as const;
      expect(await ports.dns.upsertRecord(zone.id, record, { clientToken: token('r') })).toEqual(record);
      expect((await ports.dns.listRecords(zone.id)).items).toEqual([record]);
      await ports.dns.deleteRecord({ zoneId: zone.id, name: 'www', type: 'A' }, { clientToken: token('dr') });
      const gone = await error(
        ports.dns.deleteRecord({ zoneId: zone.id, name: 'www', type: 'A' }, { clientToken: token('dr2') }),
      );
      expect(isNotFoundError(gone)).toBe(true);
      await ports.dns.deleteZone(zone.id, { clientToken: token('dz') });
      expect((await ports.dns.listZones({ labels })).items).toEqual([]);
    });

    it('replaces a balancer target set and derives health from the instances', async () => {
      const { ports, token, labels, run } = fresh();
      const { id: instanceId } = await ports.compute.createInstance(
        { name: `t-${run}`, image: 'u', size: 'small' },
        { clientToken: token('i') },
      );
      const lb = await ports.loadBalancer.createLoadBalancer(
        { name: `lb-${run}`, listenPort: 443, labels },
        { clientToken: token('l') },
      );
      expect(lb).toMatchObject({ targets: [], revision: 0 });
      const targets = [
        { address: '10.0.0.2', port: 8080, instanceId },
        { address: '10.0.0.3', port: 8080 },
      ];
      expect(
        (await ports.loadBalancer.updateTargets(lb.id, targets, { clientToken: token('u') })).revision,
      ).toBe(1);
      await ports.compute.stopInstance(instanceId, { clientToken: token('s') });
      expect((await ports.loadBalancer.getTargetHealth(lb.id)).map((h) => h.healthy)).toEqual([false, true]);
      await ports.loadBalancer.deleteLoadBalancer(lb.id, { clientToken: token('d') });
      expect(isNotFoundError(await error(ports.loadBalancer.getLoadBalancer(lb.id)))).toBe(true);
    });

    it('delivers a webhook once per client token, fenced per source, with the status the endpoint gives', async () => {
      const { ports, token, run } = fresh();
      const call = {
        method: 'POST',
        url: 'https://hooks.test/ping',
        body: '{}',
        source: `cron-jobs/${run}`,
      } as const;
      const first = await ports.webhook.deliver(call, { clientToken: token('w'), fencingToken: 2 });
      expect(first.status).toBe(200);
      expect(await ports.webhook.deliver(call, { clientToken: token('w'), fencingToken: 2 })).toEqual(first);
      const stale = await error(ports.webhook.deliver(call, { clientToken: token('w2'), fencingToken: 1 }));
      expect(isStaleFencingTokenError(stale)).toBe(true);
      const failing = { ...call, url: 'https://hooks.test/status/503' };
      expect(
        (await ports.webhook.deliver(failing, { clientToken: token('w3'), fencingToken: 3 })).status,
      ).toBe(503);
      const bad = await error(
        ports.webhook.deliver({ ...call, url: 'ftp://x' }, { clientToken: token('w4') }),
      );
      expect(isInvalidInputError(bad)).toBe(true);
    });

    it('prunes instance logs before a time, once per client token', async () => {
      const { ports, token } = fresh();
      // Nothing is older than the epoch: nothing goes, and the call is taken as it is.
      expect(await ports.compute.pruneLogs(0, { clientToken: token('p') })).toEqual({ removed: 0 });
      expect(await ports.compute.pruneLogs(0, { clientToken: token('p') })).toEqual({ removed: 0 });
      const bad = await error(ports.compute.pruneLogs(-1, { clientToken: token('p2') }));
      expect(isInvalidInputError(bad)).toBe(true);
    });

    it('runs a pipeline once per client token, fenced per source, with step logs and a cancel', async () => {
      const { ports, token, run, labels } = fresh();
      const spec = {
        source: `pipeline-runs/${run}`,
        labels,
        stages: [{ name: 'build', steps: [{ name: 'make', image: 'node:20', commands: ['echo built'] }] }],
      };
      const first = await ports.runner.startRun(spec, { clientToken: token('r'), fencingToken: 2 });
      expect(first).toMatchObject({ source: spec.source, labels, steps: [{ stage: 'build', step: 'make' }] });
      expect((await ports.runner.startRun(spec, { clientToken: token('r'), fencingToken: 2 })).id).toBe(
        first.id,
      );
      const stale = await error(
        ports.runner.cancelRun(first.id, { clientToken: token('c1'), fencingToken: 1 }),
      );
      expect(isStaleFencingTokenError(stale)).toBe(true);
      const lines: string[] = [];
      for await (const l of await ports.runner.streamRunLogs(first.id, { step: 'build/make', follow: true }))
        lines.push(l.line);
      expect(lines).toEqual(['$ echo built', 'built', 'exit code 0']);
      expect((await ports.runner.getRun(first.id)).state).toBe('succeeded');
      expect((await ports.runner.listRuns({ labels })).items.map((r) => r.id)).toEqual([first.id]);
      await ports.runner.deleteRun(first.id, { clientToken: token('d'), fencingToken: 2 });
      expect(isNotFoundError(await error(ports.runner.getRun(first.id)))).toBe(true);
    });

    it('gives a balancer several listeners, one per (port, transport)', async () => {
      const { ports, token, run } = fresh();
      const listeners = [
        { port: 443, protocol: 'https' },
        { port: 80, protocol: 'http' },
        { port: 53, protocol: 'udp' },
        { port: 53, protocol: 'tcp' },
      ] as const;
      const lb = await ports.loadBalancer.createLoadBalancer(
        { name: `multi-${run}`, listeners },
        { clientToken: token('m') },
      );
      expect(lb).toMatchObject({ listeners, listenPort: 443 });
      expect((await ports.loadBalancer.getLoadBalancer(lb.id)).listeners).toEqual(listeners);
      const shorthand = await ports.loadBalancer.createLoadBalancer(
        { name: `one-${run}`, listenPort: 8443 },
        { clientToken: token('o') },
      );
      expect(shorthand.listeners).toEqual([{ port: 8443, protocol: 'tcp' }]);
      const clash = await error(
        ports.loadBalancer.createLoadBalancer(
          {
            name: `clash-${run}`,
            listeners: [
              { port: 80, protocol: 'http' },
              { port: 80, protocol: 'tcp' },
            ],
          },
          { clientToken: token('c') },
        ),
      );
      expect(isInvalidInputError(clash)).toBe(true);
      expect((clash as Error).message).toContain('listeners[1].port');
    });

    it('refuses a call whose signal is already aborted, with its reason', async () => {
      const { ports, token } = fresh();
      const reason = new Error('caller gave up');
      await expect(ports.dns.listZones({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      await expect(
        ports.storage.createVolume(
          { name: 'never', sizeGiB: 1 },
          { clientToken: token('n'), signal: AbortSignal.abort(reason) },
        ),
      ).rejects.toBe(reason);
    });
  });
}
