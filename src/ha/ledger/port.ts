/**
 * The execution ledger: who may run a job now, and whether it is finished. A worker takes a
 * lease before it runs a job; the lease carries a fencing token that grows with every new
 * lease of the job, and every later transition names that token, so a worker that lost its
 * lease (paused, partitioned, too slow) can no longer change the job's fate.
 */

/** A live right to run one job, until `leaseExpiresAt` (database time) unless extended. */
export interface Lease {
  readonly jobKey: string;
  /** The fencing token: larger than the token of any earlier lease of this job. */
  readonly token: number;
  /** Leases taken on this job so far, this one included (1 = first attempt). */
  readonly attempt: number;
  readonly leaseExpiresAt: Date;
}

/** Why a lease was not granted. */
export type AcquireRefusal =
  | { readonly kind: 'completed' }
  /** Failed for good; `reported` once the failure was reported (`markReported`). */
  | { readonly kind: 'failed'; readonly error: string | null; readonly reported: boolean }
  /** Another lease is live; `remainingMs` is measured on the database clock. */
  | { readonly kind: 'running'; readonly owner: string; readonly until: Date; readonly remainingMs: number }
  /** A retry is scheduled for later; the job may not start before `until`. */
  | { readonly kind: 'scheduled'; readonly until: Date; readonly remainingMs: number }
  /**
   * The key cannot be stored (see `job/limits.ts`): it never reaches a statement, so it cannot
   * fail the batch it came in. It can never be leased.
   */
  | { readonly kind: 'invalid'; readonly reason: string };

export type AcquireResult =
  | { readonly acquired: true; readonly lease: Lease }
  | { readonly acquired: false; readonly jobKey: string; readonly refusal: AcquireRefusal };

export interface AcquireRequest {
  readonly jobKey: string;
  readonly leaseMs: number;
}

export interface HeldLease {
  readonly jobKey: string;
  readonly token: number;
}

export interface ExchangeResult {
  /** Keys of the completions that were refused (stale leases). */
  readonly refusedCompletions: string[];
  /** One result per acquisition request, in request order. */
  readonly acquired: AcquireResult[];
}

export interface FailOptions {
  /** true: the job may run again after `retryInMs`; false: it failed for good. */
  readonly retryable: boolean;
  readonly retryInMs?: number;
  /** Why it failed; kept in the entry and shown to operators. */
  readonly error: string;
}

export type LedgerState = 'running' | 'pending' | 'completed' | 'failed';

/** A job's row in the ledger, as operators and tests see it. */
export interface LedgerEntry {
  readonly jobKey: string;
  readonly state: LedgerState;
  readonly owner: string | null;
  readonly token: number;
  readonly attempt: number;
  readonly leaseExpiresAt: Date | null;
  readonly retryAt: Date | null;
  readonly lastError: string | null;
  readonly finishedAt: Date | null;
}

export interface ExecutionLedger {
  /** Takes a lease of `leaseMs` on `jobKey` for `owner`, or says why not. */
  tryAcquire(jobKey: string, owner: string, leaseMs: number): Promise<AcquireResult>;
  /** The same for a batch of distinct keys in one statement; results in request order. */
  tryAcquireBatch(requests: readonly AcquireRequest[], owner: string): Promise<AcquireResult[]>;
  /**
   * Extends every lease in one statement, each by its own `leaseMs`. Returns the keys whose
   * lease was lost (expired or taken over): their handlers must stop.
   */
  heartbeat(leases: readonly (HeldLease & { readonly leaseMs: number })[]): Promise<string[]>;
  /** Marks the job completed. Throws a `StaleLeaseError` when the lease is no longer live. */
  complete(jobKey: string, token: number): Promise<void>;
  /** Completes a batch in one statement; returns the keys that were refused (stale leases). */
  completeBatch(leases: readonly HeldLease[]): Promise<string[]>;
  /**
   * Completes one batch and takes leases for another in ONE statement: a busy worker pays one
   * commit for both. The two sets must not share a key.
   */
  exchange(
    completions: readonly HeldLease[],
    requests: readonly AcquireRequest[],
    owner: string,
  ): Promise<ExchangeResult>;
  /** Records a failed attempt. Throws a `StaleLeaseError` when the lease is no longer live. */
  fail(jobKey: string, token: number, options: FailOptions): Promise<void>;
  /**
   * Gives back leases that were never used (prefetched jobs on shutdown): the jobs are due at
   * once and the attempt is not counted. Returns the keys that were refused (stale leases).
   */
  release(leases: readonly HeldLease[]): Promise<string[]>;
  /**
   * Gives back leases their live holder lost (expired before a renewal landed) while no other
   * lease was granted since: the jobs are due at once and the lost lease is not counted as an
   * attempt, so an overloaded host does not use up a job's attempts without any failure.
   * Returns the keys that were refused (taken over, or finished).
   */
  returnLost(leases: readonly HeldLease[]): Promise<string[]>;
  /**
   * Records that the failure of a job failed for good was reported (the dead-letter hook ran),
   * so that duplicate copies of the job do not report it again. Returns false when it was
   * already recorded, or the job is not failed.
   */
  markReported(jobKey: string): Promise<boolean>;
  /** The entry of one job, or undefined when it never started. */
  get(jobKey: string): Promise<LedgerEntry | undefined>;
}
