// The append-only audit of every destructive call that reached the simulated cloud: what
// G2 ("no destructive action twice") is counted from. Entries are never changed or
// removed; listeners see each one as it is appended (the NDJSON stream).

import type { BackendKind } from '../../core/ports/index.js';

/**
 * What a destructive call did: `created` (it had its effect, whatever the operation),
 * `replayed` (a repeat of a client token: the first result, no effect), `refused-stale`
 * (an older fencing token), `conflict` (a client token reused with other parameters, or a
 * clash with the resource's state), `failed` (any other refusal: not found, invalid input…).
 */
export type AuditOutcome = 'created' | 'replayed' | 'refused-stale' | 'conflict' | 'failed';

/** One destructive call, as the cloud saw it. */
export interface AuditEntry {
  /** Order of the entry, from 1. */
  readonly seq: number;
  /** Time of the call (ms since the epoch, the cloud's clock). */
  readonly at: number;
  /** Backend kind. */
  readonly backend: BackendKind;
  /** Operation name, e.g. `createInstance`. */
  readonly op: string;
  /** Resource key, e.g. `instance/i-1`, or `instance/name:web` for a create. */
  readonly resource: string;
  /** The caller's client token. */
  readonly clientToken: string;
  /** The caller's fencing token, if any. */
  readonly fencingToken?: number;
  /** The calling node, if it said. */
  readonly caller?: string;
  /** What the call did. */
  readonly outcome: AuditOutcome;
  /** Code of the error when refused. */
  readonly error?: string;
}

/** A filter of audit entries; every given field must match. */
export interface AuditFilter {
  /** Backend kind. */
  readonly backend?: BackendKind;
  /** Operation name. */
  readonly op?: string;
  /** Resource key. */
  readonly resource?: string;
  /** Client token. */
  readonly clientToken?: string;
  /** Calling node. */
  readonly caller?: string;
  /** Outcome. */
  readonly outcome?: AuditOutcome;
  /** Only entries with a greater `seq` (to resume a stream). */
  readonly afterSeq?: number;
  /** Only entries at or after this time. */
  readonly since?: number;
}

/** True when `entry` passes `filter`. */
export function matchesAudit(entry: AuditEntry, filter: AuditFilter): boolean {
  return (
    (filter.backend === undefined || entry.backend === filter.backend) &&
    (filter.op === undefined || entry.op === filter.op) &&
    (filter.resource === undefined || entry.resource === filter.resource) &&
    (filter.clientToken === undefined || entry.clientToken === filter.clientToken) &&
    (filter.caller === undefined || entry.caller === filter.caller) &&
    (filter.outcome === undefined || entry.outcome === filter.outcome) &&
    (filter.afterSeq === undefined || entry.seq > filter.afterSeq) &&
    (filter.since === undefined || entry.at >= filter.since)
  );
}

/** The audit log. */
export class AuditLog {
  readonly #entries: AuditEntry[] = [];
  readonly #listeners = new Set<(entry: AuditEntry) => void>();

  /** @param entries entries restored from a saved state, in order */
  constructor(entries: readonly AuditEntry[] = []) {
    this.#entries.push(...entries);
  }

  /** Every entry, in order (a read-only view). */
  get entries(): readonly AuditEntry[] {
    return this.#entries;
  }

  /** Appends an entry, numbering it, and tells the listeners. */
  append(entry: Omit<AuditEntry, 'seq'>): AuditEntry {
    const full: AuditEntry = { seq: this.#entries.length + 1, ...entry };
    this.#entries.push(full);
    for (const listener of this.#listeners) {
      // A listener that throws (a broken stream) must not fail the call that was audited.
      try {
        listener(full);
      } catch {}
    }
    return full;
  }

  /** Entries passing `filter`, in order. */
  query(filter: AuditFilter = {}): AuditEntry[] {
    return this.#entries.filter((e) => matchesAudit(e, filter));
  }

  /** Calls `listener` with every entry appended from now on; returns the unsubscribe. */
  subscribe(listener: (entry: AuditEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
