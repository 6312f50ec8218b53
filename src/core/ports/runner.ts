// The runner port: pipeline runs on the backend's build machines. A run is stages of steps:
// the stages one after the other, the steps of a stage side by side; a failed step fails the
// run and skips the stages after it. Each step has its own log. Like every destructive call,
// starting, canceling and deleting carry a client token (a repeat has no second effect) and a
// fencing token (refused when older than the newest seen for the same `source`).

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';
import type { LogLine, LogOptions } from './compute.js';

/** One step: commands run in order in a container of `image`. */
export interface RunStepSpec {
  readonly name: string;
  readonly image: string;
  readonly commands: readonly string[];
}

/** One stage: steps run side by side. */
export interface RunStageSpec {
  readonly name: string;
  readonly steps: readonly RunStepSpec[];
}

/** What to run. */
export interface RunSpec {
  /** Whom the run is for (`pipeline-runs/<id>`): the key the backend fences on. */
  readonly source: string;
  readonly stages: readonly RunStageSpec[];
  readonly labels?: Readonly<Record<string, string>>;
}

/** The state of a run or of one of its steps. */
export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'skipped';

/** Where one step stands. */
export interface StepStatus {
  readonly stage: string;
  readonly step: string;
  readonly state: RunState;
  /** ms since the epoch, backend clock. */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** Of the last command run; set once the step ended by itself. */
  readonly exitCode?: number;
}

/** A run as the backend sees it. */
export interface Run {
  readonly id: string;
  readonly source: string;
  /** Never `skipped`. */
  readonly state: RunState;
  readonly steps: readonly StepStatus[];
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly finishedAt?: number;
}

/** Options of a step's log stream. */
export interface StepLogOptions extends LogOptions {
  /** `<stage>/<step>`. */
  readonly step: string;
}

/** Pipeline runs. */
export interface RunnerPort extends Pingable {
  /** Starts a run; a repeat with the same client token returns the first run. */
  startRun(spec: RunSpec, options: MutationOptions): Promise<Run>;
  /** Reads a run; NotFound when it does not exist. */
  getRun(id: string, options?: CallOptions): Promise<Run>;
  /** Lists runs. */
  listRuns(options?: ListOptions): Promise<Page<Run>>;
  /** Stops a run's steps where they are; a finished run is returned as it is. */
  cancelRun(id: string, options: MutationOptions): Promise<Run>;
  /** Deletes a run and its logs, canceling it first; deleting a deleted one succeeds. */
  deleteRun(id: string, options: MutationOptions): Promise<void>;
  /** Opens one step's log stream; with `follow` it ends when the step does. */
  streamRunLogs(id: string, options: StepLogOptions): Promise<AsyncIterable<LogLine>>;
}
