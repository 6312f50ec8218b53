// A drill's run directory: `history.ndjson`, `faults.json` and `evidence.json` (the records of
// evidence.ts), read back with every file validated. A malformed file is refused with an error
// naming the file, the line (of the NDJSON, or where the JSON stopped parsing) and the field,
// so a report never renders from a half-read run.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Type, { type Static, type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { DrillEvidence, FaultRecord, HistoryEvent } from './evidence.js';

/** The file names of a run directory. */
export const RUN_FILES = {
  history: 'history.ndjson',
  faults: 'faults.json',
  evidence: 'evidence.json',
} as const;

/** A run as its files hold it. */
export interface DrillRun {
  readonly history: readonly HistoryEvent[];
  readonly faults: readonly FaultRecord[];
  readonly evidence: DrillEvidence;
}

const BRAND: unique symbol = Symbol.for('stratus.drill.run-dir-error');

/** A run directory's file is missing or malformed. */
export class RunDirError extends Error {
  /** Stable code. */
  readonly code = 'DRILL_RUN_MALFORMED';
  /** Brand checked by {@link isRunDirError}. */
  readonly [BRAND] = true;
  constructor(
    /** The file, relative to the run directory. */
    readonly file: string,
    /** The 1-based line, when one can be named. */
    readonly line: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line === undefined ? '' : ` line ${line}`}: ${detail}`, options);
    this.name = 'RunDirError';
  }
}

/** True when `error` is a {@link RunDirError} (from any copy of this module). */
export function isRunDirError(error: unknown): error is RunDirError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}

// The schemas follow evidence.ts field for field; the assertions at the end of this block make
// the compiler refuse a schema that accepts what the interface does not allow.

const Time = Type.Number({ minimum: 0 });
/** Terms and leases may predate the load: leaders are elected while the cluster starts. */
const AnyTime = Type.Number();
const Op = Type.Union([
  Type.Literal('create'),
  Type.Literal('update'),
  Type.Literal('action'),
  Type.Literal('delete'),
  Type.Literal('get'),
  Type.Literal('list'),
]);

const InvocationSchema = Type.Object({
  type: Type.Literal('invoke'),
  req: Type.Integer(),
  t: Time,
  tenant: Type.String(),
  op: Op,
  kind: Type.String(),
  method: Type.Union([
    Type.Literal('GET'),
    Type.Literal('POST'),
    Type.Literal('PATCH'),
    Type.Literal('DELETE'),
  ]),
  path: Type.String(),
  resourceId: Type.Optional(Type.String()),
  idempotencyKey: Type.Optional(Type.String()),
});

const AttemptSchema = Type.Object({
  type: Type.Literal('attempt'),
  req: Type.Integer(),
  t: Time,
  attempt: Type.Integer({ minimum: 1 }),
  status: Type.Optional(Type.Integer()),
  failure: Type.Optional(Type.String()),
  latencyMs: Type.Number({ minimum: 0 }),
});

const CompletionSchema = Type.Object({
  type: Type.Literal('complete'),
  req: Type.Integer(),
  t: Time,
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  status: Type.Optional(Type.Integer()),
  attempts: Type.Integer({ minimum: 0 }),
  resourceId: Type.Optional(Type.String()),
  operationId: Type.Optional(Type.String()),
  tenantsSeen: Type.Optional(Type.Array(Type.String())),
  error: Type.Optional(Type.String()),
});

const HistoryEventSchema = Type.Union([InvocationSchema, AttemptSchema, CompletionSchema]);

const FaultActionSchema = Type.Union([
  Type.Literal('kill'),
  Type.Literal('pause'),
  Type.Literal('restart'),
  Type.Literal('drop-db-sessions'),
  Type.Literal('blackhole-db'),
  Type.Literal('blackhole-redis'),
  Type.Literal('redis-flushall'),
  Type.Literal('redis-restart'),
  Type.Literal('backend-outage'),
  Type.Literal('backend-slow'),
  Type.Literal('backend-hang'),
  Type.Literal('database-primary-down'),
  Type.Literal('rolling-restart'),
]);

const FaultRecordSchema = Type.Object({
  scenario: Type.String(),
  action: FaultActionSchema,
  target: Type.String(),
  resolved: Type.String(),
  startT: Time,
  endT: Time,
  leaderKey: Type.Optional(Type.String()),
  deferredMs: Type.Optional(Type.Number({ minimum: 0 })),
});

const AuditSummarySchema = Type.Object({
  calls: Type.Integer({ minimum: 0 }),
  outcomes: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  duplicates: Type.Array(
    Type.Object({
      operation: Type.String(),
      clientToken: Type.String(),
      effects: Type.Integer(),
      seqs: Type.Array(Type.Integer()),
    }),
  ),
  staleRefusals: Type.Integer({ minimum: 0 }),
  staleAcceptances: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      resource: Type.String(),
      fencingToken: Type.Number(),
      newest: Type.Number(),
    }),
  ),
  ok: Type.Boolean(),
});

const Count = Type.Integer({ minimum: 0 });

const EvidenceSchema = Type.Object({
  version: Type.Literal(1),
  startedAt: Type.String(),
  scenarios: Type.Array(Type.String()),
  seed: Type.Number(),
  replicas: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  durationMs: Type.Number({ minimum: 0 }),
  ratePerS: Type.Number({ minimum: 0 }),
  loadEndT: Time,
  settledT: Time,
  audit: AuditSummarySchema,
  terms: Type.Array(
    Type.Object({
      key: Type.String(),
      epoch: Type.Integer(),
      holder: Type.String(),
      acquiredT: AnyTime,
      endedT: Type.Optional(AnyTime),
      reason: Type.Optional(Type.String()),
    }),
  ),
  jobs: Type.Array(
    Type.Object({
      key: Type.String(),
      state: Type.String(),
      attempts: Type.Integer({ minimum: 0 }),
      leases: Type.Array(
        Type.Object({
          owner: Type.String(),
          token: Type.Number(),
          startT: AnyTime,
          lastSeenT: Type.Optional(AnyTime),
        }),
      ),
      finishedT: Type.Optional(AnyTime),
    }),
  ),
  resources: Type.Array(
    Type.Object({
      id: Type.String(),
      tenant: Type.String(),
      kind: Type.String(),
      generation: Type.Integer(),
      phase: Type.String(),
      observedGeneration: Type.Optional(Type.Integer()),
      deleting: Type.Boolean(),
      backendId: Type.Optional(Type.String()),
      inTruth: Type.Optional(Type.Boolean()),
      mismatch: Type.Optional(Type.String()),
      readyGeneration: Type.Optional(Type.Integer()),
    }),
  ),
  breakers: Type.Array(
    Type.Object({
      node: Type.String(),
      breaker: Type.String(),
      failFastMs: Type.Array(Type.Number({ minimum: 0 })),
      othersMs: Type.Array(Type.Number({ minimum: 0 })),
    }),
  ),
  deletionRequested: Type.Optional(Type.Array(Type.String())),
  fencedWrites: Type.Optional(
    Type.Array(Type.Object({ key: Type.String(), epoch: Type.Integer(), t: Time, accepted: Type.Boolean() })),
  ),
  controllers: Type.Optional(
    Type.Object({
      cron: Type.Object({
        jobs: Count,
        unjudged: Count,
        untilMs: Type.Number(),
        caughtUp: Type.Boolean(),
        owed: Count,
        excused: Count,
        recorded: Count,
        delivered: Count,
        gaps: Count,
        doubles: Count,
        unexpected: Count,
        examples: Type.Array(Type.String()),
      }),
      accounting: Type.Object({
        minuteMs: Type.Integer({ minimum: 1 }),
        resources: Count,
        untilMs: Type.Number(),
        caughtUp: Type.Boolean(),
        owed: Count,
        recorded: Count,
        gaps: Count,
        doubles: Count,
        outside: Count,
        examples: Type.Array(Type.String()),
      }),
      databases: Type.Object({
        databases: Count,
        changes: Count,
        promotions: Count,
        twoWritable: Count,
        examples: Type.Array(Type.String()),
      }),
    }),
  ),
});

/** `T` with every readonly dropped, arrays included: what a schema's static type looks like. */
type Writable<T> = T extends readonly (infer U)[]
  ? Writable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Writable<T[K]> }
    : T;
/** `true` when the schema's static type and `T` accept the same values. */
type Accepts<Schema extends TSchema, T> = [Static<Schema>] extends [T]
  ? [Writable<T>] extends [Static<Schema>]
    ? true
    : never
  : never;
const schemasMatchTypes: [
  Accepts<typeof HistoryEventSchema, HistoryEvent>,
  Accepts<typeof FaultRecordSchema, FaultRecord>,
  Accepts<typeof EvidenceSchema, DrillEvidence>,
] = [true, true, true];
void schemasMatchTypes;

const historyValidator = Compile(HistoryEventSchema);
const faultsValidator = Compile(Type.Array(FaultRecordSchema));
const evidenceValidator = Compile(EvidenceSchema);

/** The first schema error of `value` as "`/pointer` message" (a union names the record type). */
function firstError(validator: Validator, value: unknown): string {
  for (const e of validator.Errors(value)) {
    const where = e.instancePath === '' ? 'the record' : e.instancePath;
    if (e.keyword === 'required') {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      return `${where} lacks ${missing.join(', ')}`;
    }
    return `${where} ${e.message}`;
  }
  return 'is not valid';
}

/** Checks one NDJSON history line's record; the union's errors are those of its `type`. */
function historyError(value: unknown): string {
  const type = (value as { type?: unknown } | null)?.type;
  const schema =
    type === 'invoke'
      ? InvocationSchema
      : type === 'attempt'
        ? AttemptSchema
        : type === 'complete'
          ? CompletionSchema
          : undefined;
  if (schema === undefined) return `/type must be invoke, attempt or complete (got ${JSON.stringify(type)})`;
  return firstError(Compile(schema), value);
}

/** Parses `history.ndjson` text; blank lines are skipped. */
export function parseHistory(text: string, file: string = RUN_FILES.history): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new RunDirError(file, i + 1, `not JSON (${(error as Error).message})`, { cause: error });
    }
    if (!historyValidator.Check(value)) throw new RunDirError(file, i + 1, historyError(value));
    out.push(value);
  }
  return out;
}

/** The 1-based line of a JSON.parse error's "position N", when it names one. */
function lineOfParseError(text: string, error: Error): number | undefined {
  const m = /position (\d+)/.exec(error.message);
  if (m === null) {
    const l = /line (\d+)/.exec(error.message);
    return l === null ? undefined : Number(l[1]);
  }
  return text.slice(0, Number(m[1])).split('\n').length;
}

function parseJsonFile<T>(text: string, file: string, validator: Validator): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const e = error as Error;
    throw new RunDirError(file, lineOfParseError(text, e), `not JSON (${e.message})`, { cause: error });
  }
  if (!validator.Check(value)) throw new RunDirError(file, undefined, firstError(validator, value));
  return value as T;
}

/** Parses `faults.json` text. */
export function parseFaults(text: string, file: string = RUN_FILES.faults): FaultRecord[] {
  return parseJsonFile<FaultRecord[]>(text, file, faultsValidator);
}

/** Parses `evidence.json` text. */
export function parseEvidence(text: string, file: string = RUN_FILES.evidence): DrillEvidence {
  return parseJsonFile<DrillEvidence>(text, file, evidenceValidator);
}

async function readRunFile(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunDirError(file, undefined, code === 'ENOENT' ? 'missing' : (error as Error).message, {
      cause: error,
    });
  }
}

/** Reads and validates the run in `dir`; throws a {@link RunDirError} naming a bad file. */
export async function readRunDir(dir: string): Promise<DrillRun> {
  const [history, faults, evidence] = await Promise.all([
    readRunFile(dir, RUN_FILES.history),
    readRunFile(dir, RUN_FILES.faults),
    readRunFile(dir, RUN_FILES.evidence),
  ]);
  return { history: parseHistory(history), faults: parseFaults(faults), evidence: parseEvidence(evidence) };
}

/** Writes `run` into `dir` (created if missing): one history event per line. */
export async function writeRunDir(dir: string, run: DrillRun): Promise<void> {
  await mkdir(dir, { recursive: true });
  const history = run.history.map((e) => JSON.stringify(e)).join('\n');
  await Promise.all([
    writeFile(join(dir, RUN_FILES.history), history === '' ? '' : `${history}\n`),
    writeFile(join(dir, RUN_FILES.faults), `${JSON.stringify(run.faults, null, 2)}\n`),
    writeFile(join(dir, RUN_FILES.evidence), `${JSON.stringify(run.evidence, null, 2)}\n`),
  ]);
}
