// The verdicts of the end-to-end test, as pure functions of what it collected: each returns
// the violations it found (empty when the guarantee held), so checks.test.ts can feed each one
// a known-bad case and see it fail.

import type { AuditSummary } from '../../src/sim/audit/summary.js';
import type { RequestRecord } from './client.js';

/** The label the test puts on every resource: the Idempotency-Key of its create. */
export const KEY_LABEL = 'e2e.stratus.io/key';

/** What the checks read of a resource (as the API lists it). */
export interface ResourceView {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly generation: number;
  readonly status: {
    readonly phase: string;
    readonly observedGeneration?: number;
    readonly outputs?: Readonly<Record<string, unknown>>;
    readonly conditions?: ReadonlyArray<{
      readonly type: string;
      readonly reason: string;
      readonly message: string;
    }>;
  };
}

/** G1/G5: requests that never got an answer, or got one other than `expected`. */
export function unansweredRequests(
  requests: readonly RequestRecord[],
  expected: (status: number) => boolean,
): string[] {
  return requests
    .filter((r) => r.answer === undefined || !expected(r.answer.status))
    .map(
      (r) =>
        `${r.method} ${r.path} (key ${r.idempotencyKey ?? '-'}): ${
          r.answer ? `answered ${r.answer.status} ${JSON.stringify(r.answer.body)}` : 'no answer'
        } after ${r.attempts.map((a) => a.failure ?? a.status).join(', ')}`,
    );
}

/** Never two resources: each key must label exactly one resource. */
export function keysWithoutOneResource(
  resources: readonly ResourceView[],
  keys: readonly string[],
): Array<{ key: string; resources: string[] }> {
  const sent = new Set(keys);
  const byKey = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const r of resources) {
    const key = r.labels[KEY_LABEL];
    if (key === undefined) continue;
    // A resource under a key the test never sent is as wrong as a second one.
    byKey.set(key, [...(byKey.get(key) ?? []), r.id]);
  }
  return [...byKey]
    .filter(([key, ids]) => ids.length !== 1 || !sent.has(key))
    .map(([key, ids]) => ({ key, resources: ids }));
}

/** G1: resources whose latest generation is not applied (Ready, observed). */
export function unconverged(resources: readonly ResourceView[]): string[] {
  return resources
    .filter((r) => r.status.phase !== 'Ready' || r.status.observedGeneration !== r.generation)
    .map((r) => {
      const ready = r.status.conditions?.find((c) => c.type === 'Ready');
      const why = ready ? ` (${ready.reason}: ${ready.message})` : '';
      return `${r.id}: ${r.status.phase} at observed generation ${r.status.observedGeneration} of ${r.generation}${why}`;
    });
}

/** G1: operations that did not succeed. */
export function unsucceeded(
  operations: ReadonlyArray<{ id: string; state: string; error?: unknown }>,
): string[] {
  return operations
    .filter((o) => o.state !== 'succeeded')
    .map((o) => `${o.id}: ${o.state} ${JSON.stringify(o.error ?? null)}`);
}

/**
 * G2 from the simulator's audit: no client token with two effects, no call accepted under a
 * fencing token older than one already seen (a dead lease), and a summary that says ok.
 */
export function auditViolations(summary: AuditSummary): string[] {
  const found = [
    ...summary.duplicates.map(
      (d) =>
        `${d.operation} had ${d.effects} effects for client token ${d.clientToken} (audit ${d.seqs.join(', ')})`,
    ),
    ...summary.staleAcceptances.map(
      (s) => `audit ${s.seq}: ${s.resource} accepted fencing token ${s.fencingToken} after ${s.newest}`,
    ),
  ];
  if (!summary.ok && found.length === 0) found.push('the summary is not ok');
  return found;
}

/** Every string anywhere in `value`, with its JSON path. */
function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}/${i}`);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}/${k}`);
}

/** The strings naming a resource in the backend: its id (name and label) and its backend id. */
function tracesOf(r: ResourceView): string[] {
  const backendId = r.status.outputs?.backendId;
  return typeof backendId === 'string' ? [r.id, backendId] : [r.id];
}

/**
 * Nothing left behind: where the simulator's truth (everything that exists in the cloud) still
 * names a deleted resource, by its id or its backend id.
 */
export function leftovers(truth: unknown, deleted: readonly ResourceView[]): string[] {
  const owner = new Map<string, string>();
  for (const r of deleted) for (const t of tracesOf(r)) owner.set(t, r.id);
  const found: string[] = [];
  for (const [path, s] of strings(truth)) {
    const id = owner.get(s);
    if (id !== undefined) found.push(`${id} is still in the cloud at ${path}`);
  }
  return found;
}

/**
 * The cloud's side of "never two": live resources the truth does not hold (by backend id), or
 * that more than one backend object is named after (a second create under another token).
 */
export function backendMismatches(truth: unknown, live: readonly ResourceView[]): string[] {
  const present = new Set<string>();
  const namedAfter = new Map<string, Set<string>>();
  for (const [path, s] of strings(truth)) {
    present.add(s);
    // A backend object's own name or label: /<collection>/<i>/name, /<collection>/<i>/labels/<k>.
    const object = /^(\/[^/]+\/\d+)\/(?:name|labels\/.+)$/.exec(path)?.[1];
    if (object) namedAfter.set(s, new Set([...(namedAfter.get(s) ?? []), object]));
  }
  const found: string[] = [];
  for (const r of live) {
    const backendId = r.status.outputs?.backendId;
    if (typeof backendId === 'string' && !present.has(backendId))
      found.push(`${r.id}: backend ${backendId} is not in the cloud`);
    const objects = namedAfter.get(r.id)?.size ?? 0;
    if (objects > 1) found.push(`${r.id}: ${objects} backend objects are named after it`);
  }
  return found;
}
