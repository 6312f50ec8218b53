// After the load: wait (with a deadline) until every operation is terminal, then read what the
// checker needs besides the history and the faults — the simulator's audit summary and truth,
// the resources as the API lists them (each matched against the truth), the leadership
// journal, the ledger, and the breakers the replicas report.

import { setTimeout as delay } from 'node:timers/promises';
import type { AuditSummary } from '../../sim/audit/summary.js';
import type { TenantKey } from '../cluster/group.js';
import { withClient } from '../cluster/pg-client.js';
import type { BreakerRecord, DrillTime, JobRecord, ResourceRecord, TermRecord } from '../evidence.js';

/** Operations not yet terminal, and ledger jobs not finished. */
export async function unsettled(databaseUrl: string): Promise<{ operations: number; jobs: number }> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ operations: number; jobs: number }>(
      `SELECT (SELECT count(*)::int FROM stratus_operations WHERE state IN ('pending', 'running')) AS operations,
              (SELECT count(*)::int FROM stratus_ledger WHERE state IN ('pending', 'running')) AS jobs`,
    );
    return rows[0]!;
  });
}

/** Waits until nothing is unsettled or the deadline passes; resolves with what is left. */
export async function settle(
  databaseUrl: string,
  timeoutMs: number,
  progress?: (line: string) => void,
): Promise<{ operations: number; jobs: number }> {
  const deadline = Date.now() + timeoutMs;
  let lastLine = 0;
  for (;;) {
    const left = await unsettled(databaseUrl);
    if ((left.operations === 0 && left.jobs === 0) || Date.now() > deadline) return left;
    if (Date.now() - lastLine > 5_000) {
      lastLine = Date.now();
      progress?.(`settling: ${left.operations} operations and ${left.jobs} jobs not finished`);
    }
    await delay(250);
  }
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, {
    headers: { accept: 'application/json', ...headers },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/** A resource as the API lists it (the fields the drill reads). */
export interface ApiResource {
  id: string;
  tenant: string;
  kind?: string;
  generation: number;
  spec: Record<string, unknown>;
  deletionRequestedAt?: string | null;
  status?: {
    phase?: string;
    observedGeneration?: number;
    outputs?: Record<string, unknown>;
    conditions?: ReadonlyArray<{
      type?: string;
      status?: string;
      reason?: string;
      message?: string;
      observedGeneration?: number;
    }>;
  };
}

/** Every resource of `kind` the tenant's key lists, page after page. */
async function listAll(apiUrl: string, key: string, kind: string): Promise<ApiResource[]> {
  const out: ApiResource[] = [];
  let cursor: string | undefined;
  do {
    const page = (await getJson(
      `${apiUrl}/v1/${kind}?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { authorization: `Bearer ${key}` },
    )) as { items: ApiResource[]; nextCursor?: string };
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** The ids of everything the simulator holds, with the instances by id. */
export function truthIndex(truth: Record<string, unknown>): {
  ids: Set<string>;
  instances: Map<string, Record<string, unknown>>;
} {
  const ids = new Set<string>();
  const instances = new Map<string, Record<string, unknown>>();
  for (const [group, items] of Object.entries(truth)) {
    if (!Array.isArray(items)) continue;
    for (const item of items as Array<Record<string, unknown>>) {
      if (typeof item.id === 'string') ids.add(item.id);
      if (group === 'instances' && typeof item.id === 'string') instances.set(item.id, item);
    }
  }
  return { ids, instances };
}

/** Where a reconciled instance's spec and the simulator disagree. */
function instanceMismatch(r: ApiResource, actual: Record<string, unknown>): string | undefined {
  const wantPower = (r.spec.powerState as string | undefined) ?? 'running';
  const problems: string[] = [];
  if (actual.state !== wantPower)
    problems.push(`powerState ${wantPower} but the cloud has ${String(actual.state)}`);
  if (r.spec.size !== undefined && actual.size !== r.spec.size)
    problems.push(`size ${String(r.spec.size)} but the cloud has ${String(actual.size)}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** One resource of the API beside the truth: is its backend object there, does it match? */
export function resourceRecord(
  r: ApiResource,
  kind: string,
  truth: ReturnType<typeof truthIndex>,
): ResourceRecord {
  const outputs = r.status?.outputs ?? {};
  const backendId =
    typeof outputs.backendId === 'string'
      ? outputs.backendId
      : typeof outputs.zoneBackendId === 'string'
        ? outputs.zoneBackendId
        : undefined;
  const reconciled = r.status?.observedGeneration === r.generation && !r.deletionRequestedAt;
  const actual = kind === 'instances' && backendId ? truth.instances.get(backendId) : undefined;
  const mismatch = reconciled && actual ? instanceMismatch(r, actual) : undefined;
  const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
  const failure =
    r.status?.phase === 'Failed' && ready
      ? `${ready.reason ?? 'unknown'}: ${ready.message ?? ''}`.slice(0, 300)
      : undefined;
  return {
    id: r.id,
    tenant: r.tenant,
    kind,
    generation: r.generation,
    phase: r.status?.phase ?? 'unknown',
    ...(r.status?.observedGeneration === undefined
      ? {}
      : { observedGeneration: r.status.observedGeneration }),
    deleting: Boolean(r.deletionRequestedAt),
    ...(backendId === undefined ? {} : { backendId, inTruth: truth.ids.has(backendId) }),
    ...(mismatch === undefined ? {} : { mismatch }),
    ...(failure === undefined ? {} : { failure }),
    ...(ready?.observedGeneration === undefined ? {} : { readyGeneration: ready.observedGeneration }),
  };
}

/** The API's resources of every tenant beside the truth. */
export async function collectResources(
  apiUrl: string,
  tenants: readonly TenantKey[],
  kinds: readonly string[],
  truth: Record<string, unknown>,
): Promise<ResourceRecord[]> {
  const index = truthIndex(truth);
  const out: ResourceRecord[] = [];
  for (const t of tenants)
    for (const kind of kinds)
      for (const r of await listAll(apiUrl, t.key, kind)) out.push(resourceRecord(r, kind, index));
  return out;
}

/**
 * The journal, the ledger (one lease per job: the last, the only one the ledger keeps), and the
 * resources whose deletion was recorded.
 */
export async function collectDatabase(
  databaseUrl: string,
  t0: number,
): Promise<{ terms: TermRecord[]; jobs: JobRecord[]; deletionRequested: string[] }> {
  const at = (d: Date | null): DrillTime | undefined => (d === null ? undefined : d.getTime() - t0);
  return withClient(databaseUrl, async (client) => {
    const journal = await client.query<{
      key: string;
      epoch: string;
      holder: string;
      acquired_at: Date;
      ended_at: Date | null;
      reason: string | null;
    }>(
      'SELECT key, epoch, holder, acquired_at, ended_at, reason FROM stratus_leadership_journal ORDER BY acquired_at, key',
    );
    const terms = journal.rows.map((r): TermRecord => {
      const endedT = at(r.ended_at);
      return {
        key: r.key,
        epoch: Number(r.epoch),
        holder: r.holder,
        acquiredT: at(r.acquired_at)!,
        ...(endedT === undefined ? {} : { endedT }),
        ...(r.reason === null ? {} : { reason: r.reason }),
      };
    });
    const ledger = await client.query<{
      job_key: string;
      state: string;
      attempt: number;
      owner: string | null;
      token: string;
      updated_at: Date;
      finished_at: Date | null;
    }>(
      'SELECT job_key, state, attempt, owner, token, updated_at, finished_at FROM stratus_ledger ORDER BY created_at',
    );
    const jobs = ledger.rows.map((r): JobRecord => {
      const finishedT = at(r.finished_at);
      return {
        key: r.job_key,
        state: r.state,
        attempts: r.attempt,
        // The ledger keeps the last lease only; its start is the row's last change at best.
        leases:
          r.owner === null ? [] : [{ owner: r.owner, token: Number(r.token), startT: at(r.updated_at)! }],
        ...(finishedT === undefined ? {} : { finishedT }),
      };
    });
    // Deletions the control plane recorded, cascades included (the events of every write).
    const deletions = await client.query<{ resource_id: string }>(
      "SELECT DISTINCT resource_id FROM stratus_events WHERE type = 'DeletionRequested'",
    );
    return { terms, jobs, deletionRequested: deletions.rows.map((r) => r.resource_id) };
  });
}

/** The simulator's audit summary and truth. */
export async function collectSim(
  simUrl: string,
): Promise<{ audit: AuditSummary; truth: Record<string, unknown> }> {
  const [audit, truth] = await Promise.all([getJson(`${simUrl}/audit/summary`), getJson(`${simUrl}/truth`)]);
  return { audit: audit as AuditSummary, truth: truth as Record<string, unknown> };
}

/**
 * Breakers as the replicas report them (/v1/system/breakers): state and counts per node and
 * port. The report gives no latencies: the fail-fast figures need the replicas' metrics, which
 * a drill does not read yet, so `failFastMs` and `othersMs` stay empty.
 */
export async function collectBreakers(apiUrl: string, operatorKey: string): Promise<BreakerRecord[]> {
  const body = (await getJson(`${apiUrl}/v1/system/breakers`, {
    authorization: `Bearer ${operatorKey}`,
  })) as {
    items?: Array<{
      node: string;
      port: string;
      state: string;
      totalRejected: number;
      totalFailures: number;
      failFastMs?: number[];
      othersMs?: number[];
    }>;
  };
  return (body.items ?? []).map((b) => ({
    node: b.node,
    breaker: b.port,
    failFastMs: b.failFastMs ?? [],
    othersMs: b.othersMs ?? [],
    state: b.state,
    totalRejected: b.totalRejected,
    totalFailures: b.totalFailures,
  }));
}
