// Housekeeping's audit: from the tables before and after a pass, every row that went though its
// rules keep it (the one thing housekeeping must never do: an idempotency record still in force,
// a job not finished or not yet past its retention, a resource's newest operation, a key's newest
// term) and, when the pass was not cut short by its batch, every row due that stayed. The rules
// are written here again, apart from the statements that apply them, so that each checks the
// other. Tests judge passes with it.

import { DEFAULT_EVENT_RETENTION_MS } from '../../control/events/store.js';
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { DEFAULT_JOB_RETENTION_MS, DEFAULT_JOURNAL_RETENTION_MS, type Retention } from './controller.js';

const SQL = { state: loadText(new URL('./sql/audit-state.sql', import.meta.url)) };

/** The pruned tables as the audit reads them (times in ms since the Unix epoch). */
export interface HousekeepingState {
  readonly idempotency: readonly { tenant: string; key: string; expiresMs: number }[];
  readonly events: readonly { id: number; timeMs: number }[];
  readonly outbox: readonly { id: number; jobKey: string; doneMs: number | null }[];
  readonly ledger: readonly { jobKey: string; state: string; finishedMs: number | null }[];
  readonly operations: readonly {
    id: string;
    jobKey: string;
    state: string;
    resourceId: string;
    generation: number;
    resourceExists: boolean;
  }[];
  readonly journal: readonly { keyId: number; epoch: number; acquiredMs: number; endedMs: number | null }[];
}

export interface HousekeepingViolation {
  /** `pruned`: a row its rules keep went; `kept`: a row due stayed after a whole pass. */
  readonly type: 'pruned' | 'kept';
  readonly table: keyof HousekeepingState;
  readonly row: string;
}

/** Reads every row of the pruned tables. */
export async function readHousekeepingState(q: Queryable): Promise<HousekeepingState> {
  const row = (await q.query(SQL.state)).rows[0] as Record<keyof HousekeepingState, unknown[]>;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    idempotency: (row.idempotency as { tenant: string; key: string; expiresMs: unknown }[]).map((r) => ({
      ...r,
      expiresMs: Number(r.expiresMs),
    })),
    events: (row.events as { id: unknown; timeMs: unknown }[]).map((r) => ({
      id: Number(r.id),
      timeMs: Number(r.timeMs),
    })),
    outbox: (row.outbox as { id: unknown; jobKey: string; doneMs: unknown }[]).map((r) => ({
      id: Number(r.id),
      jobKey: r.jobKey,
      doneMs: num(r.doneMs),
    })),
    ledger: (row.ledger as { jobKey: string; state: string; finishedMs: unknown }[]).map((r) => ({
      ...r,
      finishedMs: num(r.finishedMs),
    })),
    operations: (row.operations as HousekeepingState['operations'][number][]).map((r) => ({
      ...r,
      generation: Number(r.generation),
    })),
    journal: (row.journal as { keyId: unknown; epoch: unknown; acquiredMs: unknown; endedMs: unknown }[]).map(
      (r) => ({
        keyId: Number(r.keyId),
        epoch: Number(r.epoch),
        acquiredMs: Number(r.acquiredMs),
        endedMs: num(r.endedMs),
      }),
    ),
  };
}

/** The rules: which rows of `before` a pass at `nowMs` may remove. */
function dueRows(before: HousekeepingState, nowMs: number, retention: Retention) {
  const jobsAt = nowMs - (retention.jobsMs ?? DEFAULT_JOB_RETENTION_MS);
  const eventsAt = nowMs - (retention.eventsMs ?? DEFAULT_EVENT_RETENTION_MS);
  const journalAt = nowMs - (retention.journalMs ?? DEFAULT_JOURNAL_RETENTION_MS);
  const ledger = new Map(before.ledger.map((l) => [l.jobKey, l]));
  const unfinishedOps = new Set(
    before.operations.filter((o) => o.state === 'pending' || o.state === 'running').map((o) => o.jobKey),
  );
  const dueJobs = new Set(
    before.outbox
      .filter((o) => {
        const l = ledger.get(o.jobKey);
        return (
          o.doneMs !== null &&
          o.doneMs < jobsAt &&
          l?.state === 'completed' &&
          l.finishedMs !== null &&
          l.finishedMs < jobsAt &&
          !unfinishedOps.has(o.jobKey)
        );
      })
      .map((o) => o.jobKey),
  );
  const newestGeneration = new Map<string, number>();
  for (const o of before.operations)
    newestGeneration.set(o.resourceId, Math.max(newestGeneration.get(o.resourceId) ?? 0, o.generation));
  const newestEpoch = new Map<number, number>();
  for (const j of before.journal) newestEpoch.set(j.keyId, Math.max(newestEpoch.get(j.keyId) ?? 0, j.epoch));
  return {
    idempotency: new Set(
      before.idempotency.filter((i) => i.expiresMs <= nowMs).map((i) => `${i.tenant}/${i.key}`),
    ),
    events: new Set(before.events.filter((e) => e.timeMs < eventsAt).map((e) => String(e.id))),
    outbox: new Set(before.outbox.filter((o) => dueJobs.has(o.jobKey)).map((o) => String(o.id))),
    ledger: dueJobs,
    operations: new Set(
      before.operations
        .filter(
          (o) =>
            dueJobs.has(o.jobKey) &&
            (!o.resourceExists || (newestGeneration.get(o.resourceId) ?? 0) > o.generation),
        )
        .map((o) => o.id),
    ),
    journal: new Set(
      before.journal
        .filter(
          (j) =>
            j.endedMs !== null &&
            j.acquiredMs < journalAt &&
            j.endedMs < journalAt &&
            j.epoch < (newestEpoch.get(j.keyId) ?? 0),
        )
        .map((j) => `${j.keyId}/${j.epoch}`),
    ),
  } satisfies Record<keyof HousekeepingState, Set<string>>;
}

const ids: { [T in keyof HousekeepingState]: (row: HousekeepingState[T][number]) => string } = {
  idempotency: (r) => `${r.tenant}/${r.key}`,
  events: (r) => String(r.id),
  outbox: (r) => String(r.id),
  ledger: (r) => r.jobKey,
  operations: (r) => r.id,
  journal: (r) => `${r.keyId}/${r.epoch}`,
};

/**
 * The rows a pass at `nowMs` removed that its rules keep, and (when `complete`: the pass was not
 * cut short by its batch) the rows due it left. Empty when the pass kept the rules.
 */
export function housekeepingViolations(
  before: HousekeepingState,
  after: HousekeepingState,
  options: { readonly nowMs: number; readonly retention?: Retention; readonly complete?: boolean },
): HousekeepingViolation[] {
  const due = dueRows(before, options.nowMs, options.retention ?? {});
  const out: HousekeepingViolation[] = [];
  for (const table of Object.keys(ids) as (keyof HousekeepingState)[]) {
    const idOf = ids[table] as (row: unknown) => string;
    const left = new Set((after[table] as readonly unknown[]).map(idOf));
    for (const row of before[table] as readonly unknown[]) {
      const id = idOf(row);
      if (!left.has(id) && !due[table].has(id)) out.push({ type: 'pruned', table, row: id });
      else if (left.has(id) && due[table].has(id) && options.complete !== false)
        out.push({ type: 'kept', table, row: id });
    }
  }
  return out;
}
