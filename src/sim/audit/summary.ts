// The audit's verdict on G2: a destructive effect made twice for one client token, or a
// call accepted with a fencing token older than one already seen for the resource, is a
// violation. Drills count from this; a test feeds it a deliberate duplicate.

import type { AuditEntry } from './audit-log.js';

/** A client token whose operation had more than one effect. */
export interface DuplicateEffect {
  /** `backend.op`. */
  readonly operation: string;
  /** The client token. */
  readonly clientToken: string;
  /** How many calls had an effect (`created`). */
  readonly effects: number;
  /** The `seq` of those calls. */
  readonly seqs: readonly number[];
}

/** A call that had its effect although a newer fencing token was already seen. */
export interface StaleAcceptance {
  /** The entry. */
  readonly seq: number;
  /** The resource. */
  readonly resource: string;
  /** The token it carried. */
  readonly fencingToken: number;
  /** The newest token seen for the resource before it. */
  readonly newest: number;
}

/** Summary of an audit. */
export interface AuditSummary {
  /** Entries summarised. */
  readonly calls: number;
  /** Entries per outcome. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Client tokens (per operation) that had their effect more than once. */
  readonly duplicates: readonly DuplicateEffect[];
  /** Calls refused for a stale fencing token (the fence working). */
  readonly staleRefusals: number;
  /** Calls accepted with a token older than the newest seen (the fence failing). */
  readonly staleAcceptances: readonly StaleAcceptance[];
  /** True when there is no duplicate and no stale acceptance. */
  readonly ok: boolean;
}

/** Summarises `entries` (in `seq` order). */
export function summarizeAudit(entries: readonly AuditEntry[]): AuditSummary {
  const outcomes: Record<string, number> = {};
  const effects = new Map<string, number[]>();
  const newest = new Map<string, number>();
  const staleAcceptances: StaleAcceptance[] = [];
  let staleRefusals = 0;
  for (const e of entries) {
    outcomes[e.outcome] = (outcomes[e.outcome] ?? 0) + 1;
    if (e.outcome === 'refused-stale') staleRefusals++;
    if (e.outcome !== 'created') continue;
    const key = `${e.backend}.${e.op}\u0000${e.clientToken}`;
    effects.set(key, [...(effects.get(key) ?? []), e.seq]);
    if (e.fencingToken === undefined) continue;
    const seen = newest.get(e.resource);
    if (seen !== undefined && e.fencingToken < seen) {
      staleAcceptances.push({ seq: e.seq, resource: e.resource, fencingToken: e.fencingToken, newest: seen });
    } else newest.set(e.resource, e.fencingToken);
  }
  const duplicates = [...effects]
    .filter(([, seqs]) => seqs.length > 1)
    .map(([key, seqs]) => {
      const [operation, clientToken] = key.split('\u0000') as [string, string];
      return { operation, clientToken, effects: seqs.length, seqs };
    });
  return {
    calls: entries.length,
    outcomes,
    duplicates,
    staleRefusals,
    staleAcceptances,
    ok: duplicates.length === 0 && staleAcceptances.length === 0,
  };
}
