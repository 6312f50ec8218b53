// The shared core of the in-memory backends: latency, injected faults, client-token
// idempotency, fencing tokens and the audit log of destructive calls. The five port
// implementations only say what each operation does to their maps.

import {
  ConflictError,
  isBackendError,
  StaleFencingTokenError,
  UnavailableError,
} from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type { BackendKind } from '../../core/ports/index.js';
import { EpochGate } from '../../ha/leader/epoch-gate.js';
import { isStaleEpochError } from '../../ha/leader/errors.js';
import { type Scheduler, systemScheduler } from '../../ha/resilience/clock.js';

/** A fault injected into one operation. `times` limits how many calls it hits (default: all). */
export type Fault =
  | { readonly kind: 'error'; readonly error?: () => Error; readonly times?: number }
  | { readonly kind: 'hang'; readonly times?: number }
  | { readonly kind: 'slow'; readonly delayMs: number; readonly times?: number };

/** What a destructive call did. */
export type AuditEffect = 'applied' | 'replayed' | 'refused';

/** One destructive call, as the backend saw it. */
export interface AuditEntry {
  /** Order of the entry. */
  readonly seq: number;
  /** Wall-clock time of the call (ms since the epoch). */
  readonly at: number;
  /** Backend kind. */
  readonly backend: BackendKind;
  /** Operation name, e.g. `createInstance`. */
  readonly op: string;
  /** Resource key, e.g. `instance/i-1` or `instance/name:web` for a create. */
  readonly resource: string;
  /** The caller's client token. */
  readonly clientToken: string;
  /** The caller's fencing token, if any. */
  readonly fencingToken?: number;
  /** Applied (first time), replayed (same token again), or refused (and why). */
  readonly effect: AuditEffect;
  /** Code of the error when refused. */
  readonly error?: string;
}

/** An abort the backend observed while an operation was in progress. */
export interface ObservedAbort {
  /** Backend kind. */
  readonly backend: BackendKind;
  /** Operation name. */
  readonly op: string;
  /** The abort reason. */
  readonly reason: unknown;
}

/** Configuration of the in-memory cloud. */
export interface MemoryCloudOptions {
  /** Clock and timers for latency and streams; default the process's. */
  readonly scheduler?: Scheduler;
  /** Wall clock for timestamps; default `Date.now`. */
  readonly wallClock?: () => number;
  /** Latency of every operation, ms; default 0. */
  readonly latencyMs?: number;
  /** Latency per operation (`compute.createInstance`), overriding `latencyMs`. */
  readonly operationLatencyMs?: Readonly<Record<string, number>>;
}

/** The shared state and behaviour of the five in-memory backends. */
export class MemoryCloud {
  /** Every destructive call, in order. */
  readonly audit: AuditEntry[] = [];
  /** Every abort an operation observed while it waited or streamed. */
  readonly aborts: ObservedAbort[] = [];
  /** Clock and timers. */
  readonly scheduler: Scheduler;
  /** Wall clock for timestamps. */
  readonly wallClock: () => number;

  private readonly faults = new Map<string, { fault: Fault; left: number }>();
  private readonly results = new Map<string, { params: string; result: unknown }>();
  private readonly fences = new EpochGate();
  private readonly latencyMs: number;
  private readonly operationLatencyMs: Readonly<Record<string, number>>;
  private ids = 0;

  /** @param options configuration */
  constructor(options: MemoryCloudOptions = {}) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.wallClock = options.wallClock ?? Date.now;
    this.latencyMs = options.latencyMs ?? 0;
    this.operationLatencyMs = options.operationLatencyMs ?? {};
  }

  /**
   * Makes calls of `operation` (`compute.createInstance`, or `compute.*` for every
   * operation of a backend) fail, hang or slow down. Returns a function that lifts it.
   */
  inject(operation: string, fault: Fault): () => void {
    const entry = { fault, left: fault.times ?? Number.POSITIVE_INFINITY };
    this.faults.set(operation, entry);
    return () => {
      if (this.faults.get(operation) === entry) this.faults.delete(operation);
    };
  }

  /** Lifts every fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Audit entries of one client token. */
  auditOf(clientToken: string): AuditEntry[] {
    return this.audit.filter((e) => e.clientToken === clientToken);
  }

  /** A fresh id with `prefix`. */
  newId(prefix: string): string {
    this.ids++;
    return `${prefix}-${this.ids.toString(36).padStart(4, '0')}`;
  }

  /** Runs the latency and faults of an operation, honouring the signal. */
  async enter(backend: BackendKind, op: string, options: CallOptions | undefined): Promise<void> {
    const signal = options?.signal;
    const fault = this.takeFault(backend, op);
    if (signal?.aborted) this.observeAbort(backend, op, signal);
    let delay = this.operationLatencyMs[`${backend}.${op}`] ?? this.latencyMs;
    if (fault?.kind === 'slow') delay += fault.delayMs;
    if (fault?.kind === 'hang') delay = Number.POSITIVE_INFINITY;
    if (delay > 0) await this.wait(backend, op, delay, signal);
    if (fault?.kind === 'error') {
      throw fault.error?.() ?? new UnavailableError(`${backend}.${op}: injected failure`);
    }
  }

  /**
   * Runs a destructive operation once per client token: checks the fencing token of
   * `resource`, replays the first result of a repeated token, applies it otherwise, and
   * writes the audit entry in every case.
   */
  async mutate<T>(
    backend: BackendKind,
    op: string,
    resource: string,
    params: unknown,
    options: MutationOptions,
    apply: () => T,
  ): Promise<T> {
    await this.enter(backend, op, options);
    if (options.signal?.aborted) this.observeAbort(backend, op, options.signal);
    const record = (effect: AuditEffect, error?: string): void => {
      this.audit.push({
        seq: this.audit.length + 1,
        at: this.wallClock(),
        backend,
        op,
        resource,
        clientToken: options.clientToken,
        ...(options.fencingToken === undefined ? {} : { fencingToken: options.fencingToken }),
        effect,
        ...(error === undefined ? {} : { error }),
      });
    };
    try {
      this.fence(resource, options.fencingToken);
      const key = `${backend}.${op}:${options.clientToken}`;
      const json = JSON.stringify(params) ?? 'undefined';
      const first = this.results.get(key);
      if (first !== undefined) {
        if (first.params !== json)
          throw new ConflictError(`client token ${options.clientToken} reused with other parameters`);
        record('replayed');
        return structuredClone(first.result) as T;
      }
      const result = apply();
      this.results.set(key, { params: json, result: structuredClone(result) });
      record('applied');
      return result;
    } catch (error) {
      record('refused', isBackendError(error) ? error.code : 'UNKNOWN');
      throw error;
    }
  }

  /** Waits `ms` on the cloud's clock, or until `signal` aborts (recorded). */
  wait(backend: BackendKind, op: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(ms) ? this.scheduler.setTimer(done, ms) : undefined;
      const onAbort = (): void => {
        if (timer !== undefined) this.scheduler.clearTimer(timer);
        this.aborts.push({ backend, op, reason: signal?.reason });
        reject(signal?.reason);
      };
      function done(): void {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Records an abort seen before or between steps, then throws its reason. */
  observeAbort(backend: BackendKind, op: string, signal: AbortSignal): never {
    this.aborts.push({ backend, op, reason: signal.reason });
    throw signal.reason;
  }

  /**
   * Refuses a call whose fencing token (a lease token, or a leader's epoch) is older than
   * the newest one seen for the same resource: the kernel's epoch gate, reported as the
   * backend error a real cloud API would answer with.
   */
  private fence(resource: string, token: number | undefined): void {
    if (token === undefined) return;
    try {
      this.fences.admit(resource, token);
    } catch (err) {
      if (!isStaleEpochError(err)) throw err;
      throw new StaleFencingTokenError(resource, token, this.fences.highest(resource)!);
    }
  }

  private takeFault(backend: BackendKind, op: string): Fault | undefined {
    const entry = this.faults.get(`${backend}.${op}`) ?? this.faults.get(`${backend}.*`);
    if (entry === undefined || entry.left <= 0) return undefined;
    entry.left--;
    return entry.fault;
  }
}

/** One page of `items` after filtering by labels. */
export function page<T extends object>(items: Iterable<T>, options: ListOptions | undefined): Page<T> {
  const wanted = Object.entries(options?.labels ?? {});
  const all = [...items].filter((item) => wanted.every(([k, v]) => labelsOf(item)[k] === v));
  const start = options?.cursor === undefined ? 0 : Number(options.cursor);
  const limit = Math.max(1, options?.limit ?? 100);
  const items_ = all.slice(start, start + limit);
  return start + limit < all.length
    ? { items: items_, nextCursor: String(start + limit) }
    : { items: items_ };
}

function labelsOf(item: object): Readonly<Record<string, string>> {
  return (item as { labels?: Readonly<Record<string, string>> }).labels ?? {};
}
