// Simulated pipeline runs. Nothing is executed: a step's commands are read as a script whose
// timing and outcome follow from the text, so that a run's whole course is fixed when it starts
// and where it stands is worked out from the cloud's clock on every read (no timers, and a
// saved run resumes exactly after a restart of the simulator).
//
//   sleep <seconds>   takes that long (at most an hour)
//   echo <text>       writes <text> to the step's log
//   exit <code>       ends the step with that code (0: succeeded, else failed)
//   anything else     takes 20 ms and succeeds
//
// Every command is logged as `$ <command>` when it starts. The stages run one after the other,
// the steps of a stage side by side; a failed step fails the run and the stages after it are
// skipped. A run waits QUEUE_MS queued before its first stage starts.

import { InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type { LogLine } from '../../core/ports/compute.js';
import type {
  Run,
  RunnerPort,
  RunSpec,
  RunState,
  StepLogOptions,
  StepStatus,
} from '../../core/ports/runner.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';

/** How long a run is queued before it starts. */
export const QUEUE_MS = 50;
/** What a command other than sleep takes. */
const COMMAND_MS = 20;
const MAX_SLEEP_S = 3_600;

/** One run as kept: its spec, when it started and when it was canceled. */
interface SimRun {
  readonly id: string;
  readonly spec: RunSpec;
  readonly createdAt: number;
  canceledAt?: number;
}

/** The saved form of the runner. */
export interface RunnerState {
  readonly runs: readonly SimRun[];
}

/** A step's course: its log lines at offsets from its start, how long it takes, how it ends. */
interface Script {
  readonly lines: readonly { readonly offset: number; readonly line: string }[];
  readonly durationMs: number;
  readonly exitCode: number;
}

/** The course of one step's commands. */
export function scriptOf(commands: readonly string[]): Script {
  const lines: { offset: number; line: string }[] = [];
  let t = 0;
  for (const command of commands) {
    lines.push({ offset: t, line: `$ ${command}` });
    const [word = '', ...rest] = command.trim().split(/\s+/);
    const arg = rest.join(' ');
    if (word === 'sleep') {
      t += Math.round(Math.min(MAX_SLEEP_S, Math.max(0, Number(arg) || 0)) * 1_000);
    } else if (word === 'exit') {
      const code = Number.parseInt(arg || '0', 10);
      const exitCode = Number.isFinite(code) ? code : 1;
      lines.push({ offset: t, line: `exit code ${exitCode}` });
      return { lines, durationMs: t, exitCode };
    } else {
      if (word === 'echo') lines.push({ offset: t, line: arg });
      t += COMMAND_MS;
    }
  }
  lines.push({ offset: t, line: 'exit code 0' });
  return { lines, durationMs: t, exitCode: 0 };
}

/** A step's place in the run: when it starts and its script. */
interface Planned {
  readonly stage: string;
  readonly step: string;
  /** Undefined: skipped (an earlier stage failed). */
  readonly startsAt: number | undefined;
  readonly script: Script;
}

/** Every step of a run with its start, from the run's creation. */
function plan(run: SimRun): Planned[] {
  const out: Planned[] = [];
  let at: number | undefined = run.createdAt + QUEUE_MS;
  for (const stage of run.spec.stages) {
    let end: number | undefined = at;
    let failed = false;
    for (const step of stage.steps) {
      const script = scriptOf(step.commands);
      out.push({ stage: stage.name, step: step.name, startsAt: at, script });
      if (at !== undefined) {
        end = Math.max(end ?? at, at + script.durationMs);
        if (script.exitCode !== 0) failed = true;
      }
    }
    at = at === undefined || failed ? undefined : end;
  }
  return out;
}

/** Where one step stands at `now`. */
function stepAt(p: Planned, now: number, canceledAt: number | undefined): StepStatus {
  const base = { stage: p.stage, step: p.step };
  if (p.startsAt === undefined) return { ...base, state: 'skipped' };
  const end = p.startsAt + p.script.durationMs;
  const stop = canceledAt ?? Number.POSITIVE_INFINITY;
  if (end <= Math.min(now, stop))
    return {
      ...base,
      state: p.script.exitCode === 0 ? 'succeeded' : 'failed',
      startedAt: p.startsAt,
      finishedAt: end,
      exitCode: p.script.exitCode,
    };
  if (p.startsAt >= stop) return { ...base, state: 'skipped' };
  if (canceledAt !== undefined && canceledAt <= now)
    return { ...base, state: 'canceled', startedAt: p.startsAt, finishedAt: canceledAt };
  if (p.startsAt > now) return { ...base, state: 'queued' };
  return { ...base, state: 'running', startedAt: p.startsAt };
}

/** A run as it stands at `now`. */
function runAt(run: SimRun, now: number): Run {
  const steps = plan(run).map((p) => stepAt(p, now, run.canceledAt));
  const base = {
    id: run.id,
    source: run.spec.source,
    steps,
    labels: run.spec.labels ?? {},
    createdAt: run.createdAt,
  };
  if (steps.some((s) => s.state === 'running' || s.state === 'queued'))
    return { ...base, state: steps.every((s) => s.state === 'queued') ? 'queued' : 'running' };
  const canceled =
    steps.some((s) => s.state === 'canceled') ||
    (run.canceledAt !== undefined && steps.some((s) => s.state === 'skipped'));
  const state: RunState = steps.some((s) => s.state === 'failed')
    ? 'failed'
    : canceled
      ? 'canceled'
      : 'succeeded';
  const finishedAt =
    state === 'canceled' && run.canceledAt !== undefined
      ? run.canceledAt
      : Math.max(run.createdAt, ...steps.map((s) => s.finishedAt ?? 0));
  return { ...base, state, finishedAt };
}

function check(spec: RunSpec): void {
  if (spec.stages.length === 0) throw new InvalidInputError('a run needs at least one stage');
  for (const stage of spec.stages)
    if (stage.steps.length === 0) throw new InvalidInputError(`stage ${stage.name} has no steps`);
}

/** Simulated build machines. */
export class SimRunner implements RunnerPort {
  private runs = new Catalog<SimRun>([], (r) => r.spec.labels);

  /** @param cloud shared core of the simulated cloud */
  constructor(private readonly cloud: SimCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('runner', 'ping', options);
  }

  /** @inheritdoc */
  startRun(spec: RunSpec, options: MutationOptions): Promise<Run> {
    return this.cloud.mutate('runner', 'startRun', spec.source, { spec }, options, () => {
      check(spec);
      const run: SimRun = { id: this.cloud.newId('run'), spec, createdAt: this.cloud.wallClock() };
      this.runs.set(run.id, run);
      return runAt(run, run.createdAt);
    });
  }

  /** @inheritdoc */
  async getRun(id: string, options?: CallOptions): Promise<Run> {
    await this.cloud.enter('runner', 'getRun', options, `run/${id}`);
    return runAt(this.find(id), this.cloud.wallClock());
  }

  /** @inheritdoc */
  async listRuns(options?: ListOptions): Promise<Page<Run>> {
    await this.cloud.enter('runner', 'listRuns', options);
    const now = this.cloud.wallClock();
    return this.runs.page(options, (_, run) => runAt(run, now));
  }

  /** @inheritdoc */
  cancelRun(id: string, options: MutationOptions): Promise<Run> {
    const run = this.runs.get(id);
    return this.cloud.mutate('runner', 'cancelRun', run?.spec.source ?? `run/${id}`, { id }, options, () => {
      const found = this.find(id);
      const now = this.cloud.wallClock();
      const before = runAt(found, now);
      if (before.finishedAt === undefined && found.canceledAt === undefined) found.canceledAt = now;
      return runAt(found, now);
    });
  }

  /** @inheritdoc */
  deleteRun(id: string, options: MutationOptions): Promise<void> {
    const run = this.runs.get(id);
    return this.cloud.mutate('runner', 'deleteRun', run?.spec.source ?? `run/${id}`, { id }, options, () => {
      this.runs.delete(id);
    });
  }

  /** @inheritdoc */
  async streamRunLogs(id: string, options: StepLogOptions): Promise<AsyncIterable<LogLine>> {
    await this.cloud.enter('runner', 'streamRunLogs', options, `run/${id}`);
    const run = this.find(id);
    const planned = plan(run).find((p) => `${p.stage}/${p.step}` === options.step);
    if (planned === undefined) throw new NotFoundError(`run/${id}/step/${options.step}`);
    return this.follow(run, planned, options);
  }

  /** The lines of a step up to now; with `follow`, the rest as their time comes. */
  private async *follow(run: SimRun, p: Planned, options: StepLogOptions): AsyncGenerator<LogLine> {
    if (p.startsAt === undefined) return;
    const start = p.startsAt;
    const all = p.script.lines.map((l) => ({ at: start + l.offset, line: l.line }));
    const cut = () =>
      Math.min(this.cloud.wallClock(), this.runs.get(run.id)?.canceledAt ?? Number.POSITIVE_INFINITY);
    let next = 0;
    const due = all.filter((l) => l.at <= cut()).length;
    if (options.tail !== undefined) next = Math.max(0, due - options.tail);
    for (;;) {
      if (options.signal?.aborted) this.cloud.observeAbort('runner', 'streamRunLogs', options.signal);
      const upTo = cut();
      while (next < all.length && all[next]!.at <= upTo) yield all[next++]!;
      const gone = !this.runs.get(run.id);
      const stopped = this.runs.get(run.id)?.canceledAt !== undefined;
      if (!options.follow || next >= all.length || gone || stopped) return;
      await this.cloud.wait(
        'runner',
        'streamRunLogs',
        Math.max(1, all[next]!.at - this.cloud.wallClock()),
        options.signal,
      );
    }
  }

  /** Every run as it stands now (the truth of drills and tests). */
  all(): Run[] {
    const now = this.cloud.wallClock();
    return [...this.runs].map((r) => runAt(r, now));
  }

  private find(id: string): SimRun {
    const run = this.runs.get(id);
    if (run === undefined) throw new NotFoundError(`run/${id}`);
    return run;
  }

  /** The runner state, for saving. */
  exportState(): RunnerState {
    return { runs: [...this.runs].map((r) => ({ ...r })) };
  }

  /** Restores a saved state. */
  importState(state: RunnerState): void {
    this.runs = new Catalog<SimRun>(
      state.runs.map((r) => [r.id, { ...r }] as const),
      (r) => r.spec.labels,
    );
  }
}
