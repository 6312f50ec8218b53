// The shared core of the simulated cloud: clocks, ids, fault rules, client-token
// idempotency, per-resource fencing and the audit of destructive calls. The five port
// implementations only say what each operation does to their state.

import {
  ConflictError,
  isBackendError,
  isConflictError,
  isStaleFencingTokenError,
  StaleFencingTokenError,
} from '../../core/errors/backend-errors.js';
import type { CallOptions, MutationOptions } from '../../core/ports/common.js';
import type { BackendKind } from '../../core/ports/index.js';
import { type Scheduler, systemScheduler } from '../../ha/resilience/clock.js';
import { type AuditEntry, AuditLog, type AuditOutcome } from '../audit/audit-log.js';
import { sampleDelay } from '../behaviour/delay.js';
import { FaultSet } from '../behaviour/faults.js';
import { FAST_PROFILE, type Profile } from '../behaviour/profile.js';

/** An in-process fault on one operation (`compute.createInstance`, or `compute.*`). */
export type Fault =
  | { readonly kind: 'error'; readonly error?: () => Error; readonly times?: number }
  | { readonly kind: 'hang'; readonly times?: number }
  | { readonly kind: 'slow'; readonly delayMs: number; readonly times?: number };

/** An abort the cloud observed while an operation was in progress. */
export interface ObservedAbort {
  /** Backend kind. */
  readonly backend: BackendKind;
  /** Operation name. */
  readonly op: string;
  /** The abort reason. */
  readonly reason: unknown;
}

/**
 * What the cloud enforces. Both are on; turning one off on purpose lets a test show that
 * the audit summary catches the duplicate or stale call it would have refused.
 */
export interface Enforcement {
  /** Repeat of a client token → first result; default true. */
  readonly clientTokens?: boolean;
  /** Older fencing token than the newest seen for the resource → refused; default true. */
  readonly fencing?: boolean;
}

/** Configuration of the simulated cloud. */
export interface SimCloudOptions {
  /** Timers of latencies, hangs and stream intervals; default the process's. */
  readonly scheduler?: Scheduler;
  /** The cloud's clock: timestamps, lifecycle stages, fault windows; default `Date.now`. */
  readonly wallClock?: () => number;
  /** Uniform in [0, 1): delays, probabilities, load; default `Math.random`. */
  readonly random?: () => number;
  /** Behaviour profile; default `fast`. */
  readonly profile?: Profile;
  /** What the cloud enforces; default everything. */
  readonly enforce?: Enforcement;
}

/**
 * How a port keeps the first result of a destructive call for its replays when the result
 * itself would be large: a small stand-in is kept instead, and the result rebuilt from it.
 */
export interface ResultKeeping<T> {
  /** The stand-in of `result` (plain data). */
  save(result: T): unknown;
  /** The first result again, from its stand-in. */
  load(saved: unknown): T;
}

/** The saved form of the core's state (see `state.ts`). */
export interface CloudCoreState {
  readonly ids: number;
  readonly results: readonly [string, { params: string; result: string | undefined }][];
  readonly fences: readonly [string, number][];
  readonly audit: readonly AuditEntry[];
}

/** The shared state and behaviour of the five simulated backends. */
export class SimCloud {
  /** Every abort an operation observed while it waited or streamed. */
  readonly aborts: ObservedAbort[] = [];
  /** Timers. */
  readonly scheduler: Scheduler;
  /** The cloud's clock. */
  readonly wallClock: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** Fault rules in force. */
  readonly faults: FaultSet;
  /** The behaviour profile. */
  profile: Profile;
  /** The audit of destructive calls. */
  auditLog = new AuditLog();

  private results = new Map<string, { params: string; result: string | undefined }>();
  private fences = new Map<string, number>();
  private readonly enforce: Required<Enforcement>;
  private ids = 0;

  /** @param options configuration */
  constructor(options: SimCloudOptions = {}) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.wallClock = options.wallClock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.profile = options.profile ?? FAST_PROFILE;
    this.faults = new FaultSet(this.wallClock, this.random);
    this.enforce = { clientTokens: true, fencing: true, ...options.enforce };
  }

  /** Every audit entry, in order. */
  get audit(): readonly AuditEntry[] {
    return this.auditLog.entries;
  }

  /** Audit entries of one client token. */
  auditOf(clientToken: string): AuditEntry[] {
    return this.auditLog.query({ clientToken });
  }

  /**
   * In-process shorthand for a fault rule on `operation` (`compute.createInstance`, or
   * `compute.*`), with an error built by the test if it likes. Returns its removal.
   */
  inject(operation: string, fault: Fault): () => void {
    const [backend, op] = operation.split('.') as [BackendKind, string];
    const times = fault.times === undefined ? {} : { times: fault.times };
    const effect =
      fault.kind === 'error'
        ? ({ kind: 'outage' } as const)
        : fault.kind === 'hang'
          ? ({ kind: 'hang' } as const)
          : ({ kind: 'latency', delay: { kind: 'fixed', ms: fault.delayMs } } as const);
    const raise = fault.kind === 'error' ? fault.error : undefined;
    const rule = this.faults.add({ backend, operation: op, effect, ...times }, raise);
    return () => this.faults.remove(rule.id);
  }

  /** Lifts every fault. */
  clearFaults(): void {
    this.faults.reset();
  }

  /** A fresh id with `prefix`. */
  newId(prefix: string): string {
    this.ids++;
    return `${prefix}-${this.ids.toString(36).padStart(4, '0')}`;
  }

  /** Runs the fault rules of a call (latency, hang, error), honouring the signal. */
  async enter(backend: BackendKind, op: string, options: CallOptions | undefined, resource?: string) {
    const signal = options?.signal;
    if (signal?.aborted) this.observeAbort(backend, op, signal);
    for (const hit of this.faults.match(backend, op, resource, false)) {
      const effect = hit.rule.effect;
      if (effect.kind === 'latency')
        await this.wait(backend, op, sampleDelay(effect.delay, this.random), signal);
      if (effect.kind === 'hang') {
        await this.wait(backend, op, effect.forMs ?? Number.POSITIVE_INFINITY, signal, hit.removed);
      }
      if (effect.kind === 'error' || effect.kind === 'outage') throw hit.error();
    }
  }

  /**
   * Runs a destructive operation once per client token: checks the fencing token of
   * `resource`, replays the first result of a repeated token, applies it otherwise, and
   * audits what happened. A call stopped by a fault rule never reached the cloud and is
   * not audited. `keep` keeps a stand-in of the result instead of the result.
   */
  async mutate<T>(
    backend: BackendKind,
    op: string,
    resource: string,
    params: unknown,
    options: MutationOptions,
    apply: () => T,
    keep?: ResultKeeping<T>,
  ): Promise<T> {
    await this.enter(backend, op, options, resource);
    if (options.signal?.aborted) this.observeAbort(backend, op, options.signal);
    const record = (outcome: AuditOutcome, error?: string): void => {
      this.auditLog.append({
        at: this.wallClock(),
        backend,
        op,
        resource,
        clientToken: options.clientToken,
        ...(options.fencingToken === undefined ? {} : { fencingToken: options.fencingToken }),
        ...(options.caller === undefined ? {} : { caller: options.caller }),
        outcome,
        ...(error === undefined ? {} : { error }),
      });
    };
    try {
      this.fence(resource, options.fencingToken);
      const key = `${backend}.${op}:${options.clientToken}`;
      const json = JSON.stringify(params) ?? 'undefined';
      const first = this.enforce.clientTokens ? this.results.get(key) : undefined;
      if (first !== undefined) {
        if (first.params !== json)
          throw new ConflictError(`client token ${options.clientToken} reused with other parameters`);
        record('replayed');
        if (first.result === undefined) return undefined as T;
        const saved: unknown = JSON.parse(first.result);
        return keep === undefined ? (saved as T) : keep.load(saved);
      }
      const result = apply();
      // Kept as JSON text: results are plain data, and the text is both the copy that a
      // later change of the live object cannot reach and its most compact form.
      this.results.set(key, {
        params: json,
        result:
          result === undefined ? undefined : JSON.stringify(keep === undefined ? result : keep.save(result)),
      });
      record('created');
      return result;
    } catch (error) {
      const code = isBackendError(error) ? error.code : 'UNKNOWN';
      record(
        isStaleFencingTokenError(error) ? 'refused-stale' : isConflictError(error) ? 'conflict' : 'failed',
        code,
      );
      throw error;
    }
  }

  /**
   * Waits `ms` on the cloud's timers, or until `signal` aborts (recorded, rejects with its
   * reason) or `release` aborts (resolves: a hang lifted).
   */
  wait(
    backend: BackendKind,
    op: string,
    ms: number,
    signal: AbortSignal | undefined,
    release?: AbortSignal,
  ): Promise<void> {
    if (ms <= 0 && release === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(ms) ? this.scheduler.setTimer(done, ms) : undefined;
      const cleanup = (): void => {
        if (timer !== undefined) this.scheduler.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        release?.removeEventListener('abort', done);
      };
      const onAbort = (): void => {
        cleanup();
        this.aborts.push({ backend, op, reason: signal?.reason });
        reject(signal?.reason);
      };
      function done(): void {
        cleanup();
        resolve();
      }
      if (release?.aborted) return done();
      signal?.addEventListener('abort', onAbort, { once: true });
      release?.addEventListener('abort', done, { once: true });
    });
  }

  /** Records an abort seen before or between steps, then throws its reason. */
  observeAbort(backend: BackendKind, op: string, signal: AbortSignal): never {
    this.aborts.push({ backend, op, reason: signal.reason });
    throw signal.reason;
  }

  /** The core's state, for saving. */
  exportState(): CloudCoreState {
    return { ids: this.ids, results: [...this.results], fences: [...this.fences], audit: this.audit };
  }

  /** Restores a saved state. */
  importState(state: CloudCoreState): void {
    this.ids = state.ids;
    this.results = new Map(state.results);
    this.fences = new Map(state.fences);
    this.auditLog = new AuditLog(state.audit);
  }

  /**
   * Refuses a call whose fencing token (a lease token, or a leader's epoch) is older than
   * the newest one seen for the same resource, as the kernel's epoch gate does.
   */
  private fence(resource: string, token: number | undefined): void {
    if (token === undefined) return;
    const newest = this.fences.get(resource);
    if (newest !== undefined && token < newest && this.enforce.fencing) {
      throw new StaleFencingTokenError(resource, token, newest);
    }
    if (newest === undefined || token > newest) this.fences.set(resource, token);
  }
}
