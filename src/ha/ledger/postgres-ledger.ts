import type { Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { identifierProblem } from '../job/limits.js';
import { StaleLeaseError } from './errors.js';
import type {
  AcquireRefusal,
  AcquireRequest,
  AcquireResult,
  ExchangeResult,
  ExecutionLedger,
  FailOptions,
  HeldLease,
  Lease,
  LedgerEntry,
  LedgerState,
} from './port.js';

const sql = {
  exchange: loadText(new URL('./sql/exchange.sql', import.meta.url)),
  status: loadText(new URL('./sql/status.sql', import.meta.url)),
  heartbeat: loadText(new URL('./sql/heartbeat.sql', import.meta.url)),
  fail: loadText(new URL('./sql/fail.sql', import.meta.url)),
  release: loadText(new URL('./sql/release.sql', import.meta.url)),
  returnLost: loadText(new URL('./sql/return-lost.sql', import.meta.url)),
  markReported: loadText(new URL('./sql/mark-reported.sql', import.meta.url)),
};

type ExchangeRow = {
  completed: boolean;
  job_key: string;
  token: number;
  attempt: number;
  lease_expires_at: Date;
};
type StatusRow = {
  job_key: string;
  state: LedgerState;
  owner: string | null;
  token: number;
  attempt: number;
  lease_expires_at: Date | null;
  retry_at: Date | null;
  last_error: string | null;
  reported_at: Date | null;
  finished_at: Date | null;
  db_now: Date;
};

/**
 * A refused key whose row allows a lease by the time we read it (its lease expired between
 * the two statements) is tried again; three rounds end any such race in practice.
 */
const ACQUIRE_ROUNDS = 3;

/** Why `row` refuses a lease, or undefined when it would grant one now. */
function refusalOf(row: StatusRow): AcquireRefusal | undefined {
  const now = row.db_now.getTime();
  switch (row.state) {
    case 'completed':
      return { kind: 'completed' };
    case 'failed':
      return { kind: 'failed', error: row.last_error, reported: row.reported_at !== null };
    case 'running':
      if (row.lease_expires_at && row.lease_expires_at.getTime() > now) {
        const until = row.lease_expires_at;
        return { kind: 'running', owner: row.owner ?? '', until, remainingMs: until.getTime() - now };
      }
      return undefined;
    case 'pending':
      if (row.retry_at && row.retry_at.getTime() > now) {
        return { kind: 'scheduled', until: row.retry_at, remainingMs: row.retry_at.getTime() - now };
      }
      return undefined;
  }
}

/** Leases whose key no statement could take: refused here, so they cannot fail a batch. */
function splitInvalid<T extends { readonly jobKey: string }>(
  items: readonly T[],
): { valid: T[]; invalid: T[] } {
  const valid: T[] = [];
  const invalid: T[] = [];
  for (const item of items) (identifierProblem(item.jobKey, 'key') ? invalid : valid).push(item);
  return { valid, invalid };
}

function toLease(row: ExchangeRow): Lease {
  return {
    jobKey: row.job_key,
    token: Number(row.token),
    attempt: Number(row.attempt),
    leaseExpiresAt: row.lease_expires_at,
  };
}

/**
 * The execution ledger on PostgreSQL (or PGlite): every transition is one conditional
 * statement, all times are the database's, tokens come from one sequence.
 */
export function createPostgresLedger(db: Queryable): ExecutionLedger {
  /** Runs one of the batched statements keyed by (job_key, token); returns the keys it refused. */
  async function batchByToken(statement: string, all: readonly HeldLease[]): Promise<string[]> {
    const { valid: leases, invalid } = splitInvalid(all);
    if (leases.length === 0) return invalid.map((l) => l.jobKey);
    const res = await db.query<{ job_key: string }>(statement, [
      leases.map((l) => l.jobKey),
      leases.map((l) => l.token),
    ]);
    const done = new Set(res.rows.map((r) => r.job_key));
    return [...leases.filter((l) => !done.has(l.jobKey)), ...invalid].map((l) => l.jobKey);
  }

  /** One run of the exchange statement: the keys it completed and the leases it granted. */
  async function exchangeOnce(
    completions: readonly HeldLease[],
    requests: readonly AcquireRequest[],
    owner: string,
  ): Promise<{ completed: Set<string>; leases: Map<string, Lease> }> {
    const res = await db.query<ExchangeRow>(sql.exchange, [
      completions.map((l) => l.jobKey),
      completions.map((l) => l.token),
      requests.map((r) => r.jobKey),
      owner,
      requests.map((r) => Math.max(1, Math.round(r.leaseMs))),
    ]);
    const completed = new Set<string>();
    const leases = new Map<string, Lease>();
    for (const row of res.rows) {
      if (row.completed) completed.add(row.job_key);
      else leases.set(row.job_key, toLease(row));
    }
    return { completed, leases };
  }

  async function exchange(
    allCompletions: readonly HeldLease[],
    requests: readonly AcquireRequest[],
    owner: string,
  ): Promise<ExchangeResult> {
    const keys = new Set(requests.map((r) => r.jobKey));
    if (keys.size !== requests.length) throw new TypeError('ledger: job keys to acquire must be distinct');
    if (allCompletions.some((c) => keys.has(c.jobKey))) {
      throw new TypeError('ledger: a job cannot be completed and acquired in one exchange');
    }
    const results = new Map<string, AcquireResult>();
    const { valid: completions, invalid: badCompletions } = splitInvalid(allCompletions);
    const { valid: goodRequests, invalid: badRequests } = splitInvalid(requests);
    for (const r of badRequests) {
      const reason = identifierProblem(r.jobKey, 'key')!;
      results.set(r.jobKey, { acquired: false, jobKey: r.jobKey, refusal: { kind: 'invalid', reason } });
    }
    let refusedCompletions: string[] = [];
    let todo = goodRequests;
    for (let round = 0; round < ACQUIRE_ROUNDS && (todo.length > 0 || round === 0); round++) {
      const { completed, leases } = await exchangeOnce(round === 0 ? completions : [], todo, owner);
      if (round === 0)
        refusedCompletions = completions.filter((c) => !completed.has(c.jobKey)).map((c) => c.jobKey);
      for (const [key, lease] of leases) results.set(key, { acquired: true, lease });
      const refused = todo.filter((r) => !results.has(r.jobKey));
      todo = [];
      if (refused.length === 0) break;
      const status = await db.query<StatusRow>(sql.status, [refused.map((r) => r.jobKey)]);
      const byKey = new Map(status.rows.map((r) => [r.job_key, r]));
      for (const r of refused) {
        const row = byKey.get(r.jobKey);
        const refusal = row ? refusalOf(row) : undefined;
        if (refusal) results.set(r.jobKey, { acquired: false, jobKey: r.jobKey, refusal });
        else todo.push(r); // its lease expired between the two statements: try again
      }
    }
    // Still contended after every round: report it as held, for a moment, by someone else.
    for (const r of todo) {
      results.set(r.jobKey, {
        acquired: false,
        jobKey: r.jobKey,
        refusal: { kind: 'running', owner: '', until: new Date(), remainingMs: 0 },
      });
    }
    refusedCompletions.push(...badCompletions.map((c) => c.jobKey));
    return { refusedCompletions, acquired: requests.map((r) => results.get(r.jobKey)!) };
  }

  return {
    async tryAcquire(jobKey, owner, leaseMs) {
      const { acquired } = await exchange([], [{ jobKey, leaseMs }], owner);
      return acquired[0]!;
    },
    tryAcquireBatch: async (requests, owner) => (await exchange([], requests, owner)).acquired,
    exchange,
    async heartbeat(all) {
      const { valid: leases, invalid } = splitInvalid(all);
      if (leases.length === 0) return invalid.map((l) => l.jobKey);
      const res = await db.query<{ job_key: string }>(sql.heartbeat, [
        leases.map((l) => l.jobKey),
        leases.map((l) => l.token),
        leases.map((l) => Math.max(1, Math.round(l.leaseMs))),
      ]);
      const kept = new Set(res.rows.map((r) => r.job_key));
      return [...leases.filter((l) => !kept.has(l.jobKey)), ...invalid].map((l) => l.jobKey);
    },
    async complete(jobKey, token) {
      const { refusedCompletions } = await exchange([{ jobKey, token }], [], '');
      if (refusedCompletions.length > 0) throw new StaleLeaseError(jobKey, token, 'complete');
    },
    completeBatch: async (leases) =>
      leases.length === 0 ? [] : (await exchange(leases, [], '')).refusedCompletions,
    release: (leases) => batchByToken(sql.release, leases),
    returnLost: (leases) => batchByToken(sql.returnLost, leases),
    async fail(jobKey, token, options: FailOptions) {
      // A key no row can hold has no lease to fail.
      if (identifierProblem(jobKey, 'key')) throw new StaleLeaseError(jobKey, token, 'fail');
      const res = await db.query(sql.fail, [
        jobKey,
        token,
        options.retryable,
        Math.max(0, Math.round(options.retryInMs ?? 0)),
        options.error,
      ]);
      if (res.rows.length === 0) throw new StaleLeaseError(jobKey, token, 'fail');
    },
    async markReported(jobKey) {
      if (identifierProblem(jobKey, 'key')) return false;
      return (await db.query(sql.markReported, [jobKey])).rows.length > 0;
    },
    async get(jobKey): Promise<LedgerEntry | undefined> {
      if (identifierProblem(jobKey, 'key')) return undefined;
      const res = await db.query<StatusRow>(sql.status, [[jobKey]]);
      const row = res.rows[0];
      if (!row) return undefined;
      return {
        jobKey: row.job_key,
        state: row.state,
        owner: row.owner,
        token: Number(row.token),
        attempt: Number(row.attempt),
        leaseExpiresAt: row.lease_expires_at,
        retryAt: row.retry_at,
        lastError: row.last_error,
        finishedAt: row.finished_at,
      };
    },
  };
}
