import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { builtinKinds } from '../../kinds/index.js';
import { seededRandom } from '../faults/random.js';
import { LoadMix, MIX_KINDS } from './mix.js';

/** Drives the mix for `n` requests, each create answered as accepted with a new id. */
function drive(n: number, seed = 7) {
  const mix = new LoadMix(
    [
      { tenant: 'acme', key: 'k-acme' },
      { tenant: 'globex', key: 'k-globex' },
    ],
    seededRandom(seed),
    'run1',
  );
  const requests = [];
  const live = new Map<string, { kind: string; tenant: string }>();
  for (let i = 0; i < n; i++) {
    const { request, onAnswer } = mix.next();
    requests.push(request);
    if (request.op === 'create') {
      const id = `${request.kind}_${i}`;
      live.set(id, { kind: request.kind!, tenant: request.tenant });
      onAnswer(true, 202, { resource: { id } });
    } else {
      if (request.op === 'delete') live.delete(request.resourceId!);
      onAnswer(true, 202, {});
    }
  }
  return { requests, live };
}

describe('the load mix', () => {
  it('creates every kind it names with a body its kind accepts', () => {
    const { requests } = drive(4_000);
    const kinds = new Map(builtinKinds.map((k) => [k.name, k]));
    const created = new Set<string>();
    for (const r of requests.filter((q) => q.op === 'create')) {
      const kind = kinds.get(r.kind!);
      expect(kind, r.kind).toBeDefined();
      const spec = (r.body as { spec: unknown }).spec;
      expect(Value.Check(kind!.spec, spec), `${r.kind}: ${JSON.stringify(spec)}`).toBe(true);
      expect(kind!.validate?.(spec as never) ?? []).toEqual([]);
      created.add(r.kind!);
    }
    expect([...created].sort()).toEqual([...MIX_KINDS].sort());
  });

  it('keeps at most 4 cron jobs, 3 databases and 2 groups per tenant, and never updates or deletes a cron job', () => {
    const { requests, live } = drive(6_000);
    for (const tenant of ['acme', 'globex']) {
      const mine = [...live.values()].filter((r) => r.tenant === tenant);
      expect(mine.filter((r) => r.kind === 'cron-jobs').length).toBeLessThanOrEqual(4);
      expect(mine.filter((r) => r.kind === 'databases').length).toBeLessThanOrEqual(3);
      expect(mine.filter((r) => r.kind === 'autoscaling-groups').length).toBeLessThanOrEqual(2);
      expect(mine.filter((r) => r.kind === 'deployments').length).toBeLessThanOrEqual(2);
    }
    const touched = requests.filter(
      (r) => (r.op === 'update' || r.op === 'delete' || r.op === 'action') && r.kind === 'cron-jobs',
    );
    expect(touched).toEqual([]);
    // Databases do come and go.
    expect(requests.some((r) => r.op === 'delete' && r.kind === 'databases')).toBe(true);
  });
});
