// Fault rules as data: per backend, operation and (optionally) resource, an error with a
// probability, a latency, a hang, an outage window, or a slow or cut stream; each may be
// scheduled (from a time, for a duration) and limited to a number of calls. A drill loads
// a list of them, prints it and diffs it.

import { type BackendErrorCode, UnavailableError } from '../../core/errors/backend-errors.js';
import { backendErrorOf, isBackendErrorCode } from '../../core/errors/from-code.js';
import type { BackendKind } from '../../core/ports/index.js';
import { WIRE } from '../wire/operations.js';
import { type Delay, delayProblem } from './delay.js';

/** What a matching rule does to a call. */
export type FaultEffect =
  /** Fails the call with `code`, with probability `probability` (default 1). */
  | { readonly kind: 'error'; readonly code: BackendErrorCode; readonly probability?: number }
  /** Delays the call. */
  | { readonly kind: 'latency'; readonly delay: Delay }
  /** Holds the call until the rule is removed, or for `forMs`. */
  | { readonly kind: 'hang'; readonly forMs?: number }
  /** Fails every call as unavailable (give it a window to make it an outage window). */
  | { readonly kind: 'outage' }
  /** Ends a stream after `afterItems` items, as a dropped connection would. */
  | { readonly kind: 'cut-stream'; readonly afterItems: number }
  /** Delays each item of a stream. */
  | { readonly kind: 'slow-stream'; readonly delay: Delay };

/** A fault rule as given. */
export interface FaultRuleInput {
  /** Backend kind, or `*` for all. */
  readonly backend: BackendKind | '*';
  /** Operation name, or `*` (the default) for all. */
  readonly operation?: string;
  /** Resource key, exact or a prefix ending in `*`; default every resource. */
  readonly resource?: string;
  /** What it does. */
  readonly effect: FaultEffect;
  /** Active from `afterMs` after it is added (default at once)… */
  readonly afterMs?: number;
  /** …for `durationMs` (default until removed). */
  readonly durationMs?: number;
  /** Hits at most this many calls. */
  readonly times?: number;
}

/** A fault rule in force. */
export interface FaultRule extends Omit<FaultRuleInput, 'afterMs'> {
  /** Id, for removal. */
  readonly id: string;
  /** When it becomes active (ms since the epoch, the cloud's clock). */
  readonly startAt: number;
  /** Calls it has hit. */
  readonly hits: number;
}

const KINDS = ['compute', 'network', 'storage', 'dns', 'loadBalancer', 'database', 'webhook', '*'];
const EFFECTS = ['error', 'latency', 'hang', 'outage', 'cut-stream', 'slow-stream'];
const RULE_FIELDS = ['backend', 'operation', 'resource', 'effect', 'afterMs', 'durationMs', 'times'];
/** The fields each effect kind takes besides `kind`. */
const EFFECT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  error: ['code', 'probability'],
  latency: ['delay'],
  hang: ['forMs'],
  outage: [],
  'cut-stream': ['afterItems'],
  'slow-stream': ['delay'],
};

const unknownField = (value: Record<string, unknown>, known: readonly string[]) =>
  Object.keys(value).find((key) => !known.includes(key));

/**
 * The first problem of a fault rule document, naming the field first, or undefined.
 * Unknown fields and operations a backend does not have are refused: a misspelt rule
 * would otherwise be accepted and hit nothing, and the drill would pass for the wrong
 * reason.
 */
export function faultRuleProblem(input: unknown): string | undefined {
  const r = input as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'body must be a fault rule object';
  const extra = unknownField(r, RULE_FIELDS);
  if (extra !== undefined) return `${extra} is not a field of a fault rule`;
  if (!KINDS.includes(r.backend as string)) return `backend must be one of ${KINDS.join(', ')}`;
  for (const key of ['operation', 'resource'] as const) {
    if (r[key] !== undefined && (typeof r[key] !== 'string' || r[key] === '' || r[key].length > 256))
      return `${key} must be a string of 1 to 256 characters`;
  }
  for (const key of ['afterMs', 'durationMs', 'times'] as const) {
    if (r[key] !== undefined && !(Number.isSafeInteger(r[key]) && (r[key] as number) >= 0))
      return `${key} must be an integer >= 0`;
  }
  const e = r.effect as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'effect must be an object';
  if (!EFFECTS.includes(e.kind as string)) return `effect.kind must be one of ${EFFECTS.join(', ')}`;
  const extraEffect = unknownField(e, ['kind', ...EFFECT_FIELDS[e.kind as string]!]);
  if (extraEffect !== undefined) return `effect.${extraEffect} is not a field of a ${String(e.kind)} effect`;
  const streamEffect = e.kind === 'cut-stream' || e.kind === 'slow-stream';
  if (r.operation !== undefined && r.operation !== '*') {
    const backends = r.backend === '*' ? Object.keys(WIRE) : [r.backend as BackendKind];
    const found = backends.map((b) => WIRE[b as BackendKind][r.operation as string]).filter((o) => o);
    if (found.length === 0)
      return `operation ${String(r.operation)} is not an operation of ${backends.join(', ')}`;
    if (streamEffect && !found.some((o) => o!.stream))
      return `effect.kind ${e.kind} needs a stream operation (streamLogs, streamStats)`;
  }
  switch (e.kind) {
    case 'error':
      if (!isBackendErrorCode(e.code)) return 'effect.code must be a backend error code';
      if (
        e.probability !== undefined &&
        !(typeof e.probability === 'number' && e.probability >= 0 && e.probability <= 1)
      )
        return 'effect.probability must be a number from 0 to 1';
      return undefined;
    case 'latency':
    case 'slow-stream':
      return delayProblem(e.delay, 'effect.delay');
    case 'hang':
      return e.forMs === undefined || (Number.isSafeInteger(e.forMs) && (e.forMs as number) >= 0)
        ? undefined
        : 'effect.forMs must be an integer >= 0';
    case 'cut-stream':
      return Number.isSafeInteger(e.afterItems) && (e.afterItems as number) >= 0
        ? undefined
        : 'effect.afterItems must be an integer >= 0';
    default:
      return undefined;
  }
}

interface Stored {
  rule: FaultRule;
  /** Aborted when the rule is removed: releases the calls it holds. */
  readonly removed: AbortController;
  /** In-process only: builds the error instead of `effect.code`. */
  readonly raise?: () => Error;
}

/** A rule that matched a call, with what the cloud needs to act on it. */
export interface FaultHit {
  /** The rule. */
  readonly rule: FaultRule;
  /** Aborts when the rule is removed. */
  readonly removed: AbortSignal;
  /** The error to fail the call with, for error and outage rules. */
  error(): Error;
}

/** The saved form of the rules in force (see `state.ts`). */
export interface FaultSetState {
  /** The last id handed out, so a restored set never reuses one. */
  readonly ids: number;
  /** The rules, with their hits. */
  readonly rules: readonly FaultRule[];
}

/** The rules in force. */
export class FaultSet {
  readonly #rules = new Map<string, Stored>();
  #ids = 0;
  #revision = 0;

  /**
   * @param now the cloud's clock
   * @param random uniform in [0, 1), for error probabilities
   */
  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  /** Adds a rule (validated by the caller with {@link faultRuleProblem}). */
  add(input: FaultRuleInput, raise?: () => Error): FaultRule {
    const { afterMs, ...rest } = input;
    const rule: FaultRule = {
      ...rest,
      id: `fault-${++this.#ids}`,
      startAt: this.now() + (afterMs ?? 0),
      hits: 0,
    };
    this.#rules.set(rule.id, { rule, removed: new AbortController(), ...(raise ? { raise } : {}) });
    this.#revision++;
    return rule;
  }

  /** Grows with every rule added or removed: what a saver compares to know the set changed. */
  get revision(): number {
    return this.#revision;
  }

  /**
   * The rules for saving. A rule added in process with its own error keeps only its
   * data: the saved form fails with the effect's code instead.
   */
  exportState(): FaultSetState {
    return { ids: this.#ids, rules: this.list() };
  }

  /** Replaces the rules with saved ones (releasing any call the old ones held). */
  importState(state: FaultSetState): void {
    this.reset();
    this.#ids = state.ids;
    for (const rule of state.rules) this.#rules.set(rule.id, { rule, removed: new AbortController() });
    this.#revision++;
  }

  /** The rules in force, in the order they were added. */
  list(): FaultRule[] {
    return [...this.#rules.values()].map((s) => s.rule);
  }

  /** Removes a rule, releasing the calls it holds; false when there was none. */
  remove(id: string): boolean {
    const stored = this.#rules.get(id);
    if (stored === undefined) return false;
    this.#rules.delete(id);
    this.#revision++;
    stored.removed.abort();
    return true;
  }

  /** Removes every rule. */
  reset(): void {
    for (const id of [...this.#rules.keys()]) this.remove(id);
  }

  /**
   * The active rules that hit a call of `backend.operation` on `resource`, counting the
   * hit (a rule past its `times` is spent and hits nothing more).
   */
  match(backend: BackendKind, operation: string, resource: string | undefined, stream: boolean): FaultHit[] {
    if (this.#rules.size === 0) return [];
    const now = this.now();
    const hits: FaultHit[] = [];
    for (const stored of this.#rules.values()) {
      const { rule } = stored;
      const streamRule = rule.effect.kind === 'cut-stream' || rule.effect.kind === 'slow-stream';
      if (streamRule !== stream) continue;
      if (rule.backend !== '*' && rule.backend !== backend) continue;
      if (rule.operation !== undefined && rule.operation !== '*' && rule.operation !== operation) continue;
      if (rule.resource !== undefined && !resourceMatches(rule.resource, resource)) continue;
      if (now < rule.startAt || (rule.durationMs !== undefined && now >= rule.startAt + rule.durationMs))
        continue;
      // A spent rule stays listed (with its hits) until removed, so a drill can read it back.
      if (rule.times !== undefined && rule.hits >= rule.times) continue;
      if (rule.effect.kind === 'error' && this.random() >= (rule.effect.probability ?? 1)) continue;
      stored.rule = { ...rule, hits: rule.hits + 1 };
      hits.push({
        rule: stored.rule,
        removed: stored.removed.signal,
        error: () =>
          stored.raise?.() ??
          (rule.effect.kind === 'error'
            ? backendErrorOf(rule.effect.code, {
                message: `${backend}.${operation}: injected fault ${rule.id}`,
              })
            : new UnavailableError(`${backend}.${operation}: outage (${rule.id})`)),
      });
    }
    return hits;
  }
}

function resourceMatches(pattern: string, resource: string | undefined): boolean {
  if (resource === undefined) return false;
  return pattern.endsWith('*') ? resource.startsWith(pattern.slice(0, -1)) : resource === pattern;
}
