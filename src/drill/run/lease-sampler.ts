// The ledger keeps one lease per job, the last: a job leased by a node that a fault stopped,
// then taken over by another, shows only the takeover. To tell which jobs a faulted node held
// (G4's job-resume time), the drill samples the running leases while the load runs, every
// 250 ms on one connection of its own: every lease that lived longer than that is seen, with
// its owner and token, when it was granted, and the last time it was seen running (a job in a
// retry's backoff after a failed attempt is held by nobody, whoever leased it last).

import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { DrillTime, JobRecord } from '../evidence.js';

/** One lease seen running. */
export interface SampledLease {
  readonly job: string;
  readonly owner: string;
  readonly token: number;
  /** When it was leased (the row's change that gave it), on the drill's clock. */
  readonly startT: DrillTime;
  /** The last sample that saw it running, on the drill's clock. */
  readonly lastSeenT: DrillTime;
}

const SAMPLE_MS = 250;

/** Samples until `signal` aborts; resolves with every lease seen, by job and token. */
export async function sampleLeases(
  databaseUrl: string,
  t0: number,
  signal: AbortSignal,
): Promise<SampledLease[]> {
  const seen = new Map<string, SampledLease>();
  let client: pg.Client | undefined;
  while (!signal.aborted) {
    try {
      if (!client) {
        client = new pg.Client({ connectionString: databaseUrl, application_name: 'stratus-drill-leases' });
        client.on('error', () => {});
        await client.connect();
      }
      const { rows } = await client.query<{
        job_key: string;
        owner: string;
        token: string;
        updated_at: Date;
      }>(
        "SELECT job_key, owner, token, updated_at FROM stratus_ledger WHERE state = 'running' AND owner IS NOT NULL",
      );
      const sampledT = Date.now() - t0;
      for (const r of rows) {
        const id = `${r.job_key}#${r.token}`;
        const startT = r.updated_at.getTime() - t0;
        const before = seen.get(id);
        seen.set(id, {
          job: r.job_key,
          owner: r.owner,
          token: Number(r.token),
          startT: before ? Math.min(before.startT, startT) : startT,
          lastSeenT: sampledT,
        });
      }
    } catch {
      // The shared server busy or the connection lost: the next sample tries a new one.
      await client?.end().catch(() => {});
      client = undefined;
    }
    await delay(SAMPLE_MS, undefined, { signal }).catch(() => {});
  }
  await client?.end().catch(() => {});
  return [...seen.values()];
}

/** The ledger's jobs with the sampled leases added to each (by token, in token order). */
export function withSampledLeases(jobs: readonly JobRecord[], sampled: readonly SampledLease[]): JobRecord[] {
  const byJob = new Map<string, SampledLease[]>();
  for (const s of sampled) byJob.set(s.job, [...(byJob.get(s.job) ?? []), s]);
  return jobs.map((job) => {
    const extra = byJob.get(job.key);
    if (!extra) return job;
    const leases = new Map(job.leases.map((l) => [l.token, l]));
    for (const s of extra) {
      const known = leases.get(s.token);
      leases.set(
        s.token,
        known
          ? { ...known, lastSeenT: s.lastSeenT }
          : { owner: s.owner, token: s.token, startT: s.startT, lastSeenT: s.lastSeenT },
      );
    }
    return { ...job, leases: [...leases.values()].sort((a, b) => a.token - b.token) };
  });
}
