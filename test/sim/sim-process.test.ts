// `stratus sim` as a process: what drills read (truth, audit stream, resolver, metrics),
// the fault API as data, and the world kept across a restart with --state.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpBackends } from '../../src/backends/http/index.js';
import { type StratusProcess, spawnStratus } from '../helpers/stratus-process.js';

const TOKEN = 'process-test-admin-token';
const started: StratusProcess[] = [];

async function startSim(args: string[] = []) {
  const sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast', '--admin-token', TOKEN, ...args]);
  started.push(sim);
  const url = (await sim.waitForLog((r) => typeof r.url === 'string')).url as string;
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, url), {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { sim, url, admin, ports: createHttpBackends({ url, caller: 'node-a' }) };
}

async function stop(sim: StratusProcess) {
  sim.child.kill('SIGTERM');
  return sim.exited;
}

afterEach(async () => {
  for (const sim of started.splice(0)) if (sim.child.exitCode === null) await stop(sim);
});

/** Reads NDJSON lines from a response until `count` have come. */
async function readLines(response: Response, count: number): Promise<Record<string, unknown>[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.split('\n').filter((l) => l !== '').length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('stratus sim process', () => {
  it('streams the audit as NDJSON, following new entries, and shows the truth', async () => {
    const { url, ports } = await startSim();
    await ports.dns.createZone({ domain: 'a.test' }, { clientToken: 'z1' });
    const stream = await fetch(new URL('/audit?format=ndjson&follow=true&backend=dns', url));
    expect(stream.headers.get('content-type')).toContain('application/x-ndjson');
    const zone = await ports.dns.createZone({ domain: 'b.test' }, { clientToken: 'z2' });
    await ports.network.createNetwork({ name: 'n', cidr: '10.0.0.0/24' }, { clientToken: 'n1' });
    await ports.dns.upsertRecord(
      zone.id,
      { name: 'www', type: 'A', values: ['10.0.0.9'], ttl: 30 },
      { clientToken: 'r1' },
    );
    const lines = await readLines(stream, 3);
    expect(lines.map((l) => [l.seq, l.op, l.caller, l.outcome])).toEqual([
      [1, 'createZone', 'node-a', 'created'],
      [2, 'createZone', 'node-a', 'created'],
      [4, 'upsertRecord', 'node-a', 'created'],
    ]);

    const truth = (await (await fetch(new URL('/truth', url))).json()) as Record<string, unknown[]>;
    expect(truth.zones).toHaveLength(2);
    expect(truth.networks).toEqual([expect.objectContaining({ name: 'n', allocations: [] })]);
    const resolved = await (await fetch(new URL('/resolve?name=www.b.test', url))).json();
    expect(resolved).toMatchObject({ answer: { values: ['10.0.0.9'] }, zoneId: zone.id });
    const summary = await (await fetch(new URL('/audit/summary', url))).json();
    expect(summary).toMatchObject({ calls: 4, ok: true, duplicates: [] });
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    expect(metrics).toContain('stratus_sim_calls_total{backend="dns",operation="createZone",outcome="ok"} 2');
    expect(metrics).toContain('process_resident_memory_bytes');
    expect((await fetch(new URL('/readyz', url))).status).toBe(200);
  });

  it('takes fault rules as a list, lists them with their hits, and removes them', async () => {
    const { admin, ports } = await startSim();
    const rules = [
      {
        backend: 'storage',
        operation: 'listVolumes',
        effect: { kind: 'error', code: 'BACKEND_UNAVAILABLE' },
      },
      { backend: 'dns', effect: { kind: 'outage' }, afterMs: 3_600_000, durationMs: 60_000 },
    ];
    const added = (await (await admin('POST', '/faults', rules)).json()) as { rules: { id: string }[] };
    expect(added.rules).toHaveLength(2);
    await expect(ports.storage.listVolumes()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    // The outage window starts in an hour: DNS answers now.
    await expect(ports.dns.listZones()).resolves.toEqual({ items: [] });
    const listed = (await (await admin('GET', '/faults')).json()) as {
      rules: { id: string; hits: number }[];
    };
    expect(listed.rules.map((r) => r.hits)).toEqual([1, 0]);
    expect((await admin('DELETE', `/faults/${added.rules[0]!.id}`)).status).toBe(204);
    await expect(ports.storage.listVolumes()).resolves.toEqual({ items: [] });
    expect((await admin('DELETE', '/faults')).status).toBe(204);
    expect(await (await admin('GET', '/faults')).json()).toEqual({ rules: [] });
  });

  it('cuts a followed log stream after the count of lines a rule gives, through the adapter', async () => {
    const { admin, ports } = await startSim();
    const { id } = await ports.compute.createInstance(
      { name: 'logged', image: 'u', size: 'small' },
      { clientToken: 'logged' },
    );
    const rule = {
      backend: 'compute',
      operation: 'streamLogs',
      resource: `instance/${id}`,
      effect: { kind: 'cut-stream', afterItems: 1 },
    };
    expect((await admin('POST', '/faults', rule)).status).toBe(201);
    // A followed stream would never end by itself: only the cut ends it.
    const lines: string[] = [];
    for await (const line of await ports.compute.streamLogs(id, { follow: true })) lines.push(line.line);
    expect(lines).toEqual([`instance ${id} created from u`]);
  });

  it('aborts a call in flight when its signal aborts, rejecting with the reason', async () => {
    const { admin, ports } = await startSim();
    await admin('POST', '/faults', { backend: 'dns', operation: 'listZones', effect: { kind: 'hang' } });
    const controller = new AbortController();
    const call = ports.dns.listZones({ signal: controller.signal }).catch((e: unknown) => e);
    // Wait (polling with a deadline) until the call is held by the rule at the simulator.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rules } = (await (await admin('GET', '/faults')).json()) as { rules: { hits: number }[] };
      if (rules[0]!.hits === 1) break;
      if (Date.now() > deadline) throw new Error('the call never reached the simulator');
    }
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await call).toBe(reason);
    // Other calls go on over the same connection pool.
    await expect(ports.network.listNetworks()).resolves.toEqual({ items: [] });
  });

  it('keeps its world across a restart with --state', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'sim-state-')), 'world.json');
    const first = await startSim(['--state', state]);
    const spec = { name: 'kept', image: 'ubuntu', size: 'small', labels: { owner: 'cp' } };
    const instance = await first.ports.compute.createInstance(spec, {
      clientToken: 'create-kept',
      fencingToken: 4,
    });
    const net = await first.ports.network.createNetwork(
      { name: 'n', cidr: '10.2.0.0/29' },
      { clientToken: 'n' },
    );
    const ip = await first.ports.network.allocateIp(net.id, { clientToken: 'ip1' });
    await first.ports.compute.stopInstance(instance.id, { clientToken: 'stop', fencingToken: 4 });
    await first.ports.compute.startInstance(instance.id, { clientToken: 'start', fencingToken: 4 });
    expect(await stop(first.sim)).toEqual({ code: 0, signal: null });

    const second = await startSim(['--state', state]);
    expect(await second.ports.compute.getInstance(instance.id)).toEqual(instance);
    expect(await second.ports.compute.getInstance(instance.id)).toMatchObject({ state: 'running' });
    // The client-token results survived: a repeat is a replay, not a second instance.
    expect(
      await second.ports.compute.createInstance(spec, { clientToken: 'create-kept', fencingToken: 4 }),
    ).toEqual(instance);
    expect((await second.ports.compute.listInstances({ labels: { owner: 'cp' } })).items).toHaveLength(1);
    // So did the fencing tokens and the allocations.
    await expect(
      second.ports.compute.stopInstance(instance.id, { clientToken: 'old', fencingToken: 3 }),
    ).rejects.toMatchObject({ code: 'BACKEND_STALE_FENCING_TOKEN', newest: 4 });
    const next = await second.ports.network.allocateIp(net.id, { clientToken: 'ip2' });
    expect(next.address).not.toBe(ip.address);
    const audit = (await (await fetch(new URL('/audit?op=createInstance', second.url))).json()) as {
      entries: { outcome: string }[];
    };
    expect(audit.entries.map((e) => e.outcome)).toEqual(['created', 'replayed']);
  });

  it('keeps its fault rules and profile across a restart with --state, even after a SIGKILL', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'sim-state-')), 'world.json');
    const first = await startSim(['--state', state, '--save-interval-ms', '100']);
    const rule = {
      backend: 'storage',
      operation: 'listVolumes',
      effect: { kind: 'error', code: 'BACKEND_CONFLICT' },
      times: 3,
    };
    expect((await first.admin('POST', '/faults', rule)).status).toBe(201);
    await expect(first.ports.storage.listVolumes()).rejects.toMatchObject({ code: 'BACKEND_CONFLICT' });
    const profile = { name: 'drill', crashesPerHour: 0, instanceQuotaPerTenant: 7 };
    expect((await first.admin('PUT', '/profile', profile)).status).toBe(200);
    // No destructive call was made: only the rules and the profile changed. The saver must
    // still write them within an interval (polled with a deadline), then the process dies
    // without a chance to save again.
    const deadline = Date.now() + 10_000;
    const saved = () => {
      try {
        const file = JSON.parse(readFileSync(state, 'utf8')) as {
          profile?: { name: string };
          faults?: { rules: unknown[] };
        };
        return file.profile?.name === 'drill' && file.faults?.rules.length === 1;
      } catch {
        return false;
      }
    };
    while (!saved()) {
      if (Date.now() > deadline) throw new Error('the rules and profile were never saved');
      await new Promise((resolve) => setImmediate(resolve));
    }
    first.sim.child.kill('SIGKILL');
    await first.sim.exited;

    const second = await startSim(['--state', state]);
    const { rules } = (await (await second.admin('GET', '/faults')).json()) as {
      rules: { id: string; hits: number; times: number }[];
    };
    expect(rules).toEqual([expect.objectContaining({ ...rule, hits: 1 })]);
    await expect(second.ports.storage.listVolumes()).rejects.toMatchObject({ code: 'BACKEND_CONFLICT' });
    expect(await (await second.admin('GET', '/profile')).json()).toMatchObject(profile);
    // A rule added after the restart gets a fresh id.
    const added = (await (await second.admin('POST', '/faults', { ...rule, times: 1 })).json()) as {
      id: string;
    };
    expect(added.id).not.toBe(rules[0]!.id);
    // And a graceful stop keeps the hits counted since.
    expect(await stop(second.sim)).toEqual({ code: 0, signal: null });
    const third = await startSim(['--state', state]);
    const after = (await (await third.admin('GET', '/faults')).json()) as { rules: { hits: number }[] };
    expect(after.rules.map((r) => r.hits)).toEqual([2, 0]);
    expect(await (await third.admin('GET', '/profile')).json()).toMatchObject({ name: 'drill' });
  });
});
