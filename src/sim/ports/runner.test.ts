import { describe, expect, it } from 'vitest';
import {
  isInvalidInputError,
  isNotFoundError,
  isStaleFencingTokenError,
} from '../../core/errors/backend-errors.js';
import type { RunSpec } from '../../core/ports/runner.js';
import { ManualClock } from '../../ha/resilience/clock.js';
import { FAST_PROFILE } from '../behaviour/profile.js';
import { createSimBackends } from '../index.js';
import { QUEUE_MS, scriptOf } from './runner.js';

const T0 = 1_700_000_000_000;

function cloud() {
  const clock = new ManualClock(T0);
  const sim = createSimBackends({ scheduler: clock, wallClock: () => clock.now(), profile: FAST_PROFILE });
  return { clock, runner: sim.runner, sim };
}

const spec = (stages: RunSpec['stages']): RunSpec => ({ source: 'pipeline-runs/run_1', stages });
const step = (name: string, ...commands: string[]) => ({ name, image: 'node:20', commands });

describe('the simulated runner', () => {
  it('reads a script: sleeps take their time, echo logs, exit ends the step with its code', () => {
    expect(scriptOf(['echo hi', 'sleep 1.5', 'make'])).toEqual({
      lines: [
        { offset: 0, line: '$ echo hi' },
        { offset: 0, line: 'hi' },
        { offset: 20, line: '$ sleep 1.5' },
        { offset: 1_520, line: '$ make' },
        { offset: 1_540, line: 'exit code 0' },
      ],
      durationMs: 1_540,
      exitCode: 0,
    });
    expect(scriptOf(['sleep 1', 'exit 3', 'echo never'])).toMatchObject({ durationMs: 1_000, exitCode: 3 });
  });

  it('runs stages one after the other and the steps of a stage side by side, on the cloud clock', async () => {
    const { clock, runner } = cloud();
    const stages = [
      { name: 'build', steps: [step('compile', 'sleep 2'), step('lint', 'sleep 1')] },
      { name: 'test', steps: [step('unit', 'echo ok', 'sleep 1')] },
    ];
    const run = await runner.startRun(spec(stages), { clientToken: 'job-1', fencingToken: 4 });
    expect(run.state).toBe('queued');
    clock.advance(QUEUE_MS + 1_500);
    let now = await runner.getRun(run.id);
    expect(now.state).toBe('running');
    expect(now.steps.map((s) => s.state)).toEqual(['running', 'succeeded', 'queued']);
    clock.advance(1_000);
    now = await runner.getRun(run.id);
    expect(now.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'running']);
    expect(now.steps[2]!.startedAt).toBe(T0 + QUEUE_MS + 2_000);
    clock.advance(1_100);
    now = await runner.getRun(run.id);
    expect(now.state).toBe('succeeded');
    expect(now.finishedAt).toBe(T0 + QUEUE_MS + 3_020);
    const lines = [];
    for await (const l of await runner.streamRunLogs(run.id, { step: 'test/unit' })) lines.push(l.line);
    expect(lines).toEqual(['$ echo ok', 'ok', '$ sleep 1', 'exit code 0']);
    // A repeat of the start is the same run; another epoch's older token is refused.
    expect((await runner.startRun(spec(stages), { clientToken: 'job-1', fencingToken: 4 })).id).toBe(run.id);
    const stale = await runner.cancelRun(run.id, { clientToken: 'old', fencingToken: 3 }).catch((e) => e);
    expect(isStaleFencingTokenError(stale)).toBe(true);
  });

  it('fails a run on a failed step and skips the stages after it', async () => {
    const { clock, runner } = cloud();
    const run = await runner.startRun(
      spec([
        { name: 'build', steps: [step('a', 'exit 2'), step('b', 'sleep 1')] },
        { name: 'deploy', steps: [step('c', 'echo never')] },
      ]),
      { clientToken: 'job-2' },
    );
    clock.advance(QUEUE_MS + 500);
    // b still runs: the run is not over yet.
    expect((await runner.getRun(run.id)).state).toBe('running');
    clock.advance(600);
    const done = await runner.getRun(run.id);
    expect(done.state).toBe('failed');
    expect(done.steps.map((s) => [s.step, s.state, s.exitCode])).toEqual([
      ['a', 'failed', 2],
      ['b', 'succeeded', 0],
      ['c', 'skipped', undefined],
    ]);
  });

  it('cancels a run where it stands, follows a log to its end, and deletes a run with its logs', async () => {
    const { clock, runner } = cloud();
    const run = await runner.startRun(
      spec([
        { name: 'one', steps: [step('slow', 'echo start', 'sleep 10', 'echo end')] },
        { name: 'two', steps: [step('after', 'echo x')] },
      ]),
      { clientToken: 'job-3' },
    );
    clock.advance(QUEUE_MS + 1_000);
    const follow = await runner.streamRunLogs(run.id, { step: 'one/slow', follow: true });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const l of follow) seen.push(l.line);
    })();
    const canceled = await runner.cancelRun(run.id, { clientToken: 'cancel-1' });
    expect(canceled.state).toBe('canceled');
    expect(canceled.steps.map((s) => s.state)).toEqual(['canceled', 'skipped']);
    expect(canceled.finishedAt).toBe(T0 + QUEUE_MS + 1_000);
    await reading;
    expect(seen).toEqual(['$ echo start', 'start', '$ sleep 10']);
    clock.advance(20_000);
    expect((await runner.getRun(run.id)).state).toBe('canceled');
    // A finished run is not canceled again.
    expect((await runner.cancelRun(run.id, { clientToken: 'cancel-2' })).finishedAt).toBe(
      canceled.finishedAt,
    );
    await runner.deleteRun(run.id, { clientToken: 'del-1' });
    expect(isNotFoundError(await runner.getRun(run.id).catch((e) => e))).toBe(true);
    expect((await runner.listRuns()).items).toEqual([]);
  });

  it('refuses a run with no stage or an empty stage, and a log of a step it does not have', async () => {
    const { runner } = cloud();
    expect(isInvalidInputError(await runner.startRun(spec([]), { clientToken: 'e1' }).catch((e) => e))).toBe(
      true,
    );
    expect(
      isInvalidInputError(
        await runner.startRun(spec([{ name: 's', steps: [] }]), { clientToken: 'e2' }).catch((e) => e),
      ),
    ).toBe(true);
    const run = await runner.startRun(spec([{ name: 's', steps: [step('x', 'true')] }]), {
      clientToken: 'e3',
    });
    expect(isNotFoundError(await runner.streamRunLogs(run.id, { step: 's/y' }).catch((e) => e))).toBe(true);
  });
});
