// Pipelines end to end in one process, on real PostgreSQL and the in-process simulated runner,
// the reconcile worker running and the pipelines controller's passes called by the test under
// in-process leadership: bad pipelines and runs are 422s naming the field; a run goes through
// its stages, its state and steps followed into its status and its logs read back; a failed
// step fails the run and skips what follows; a cancel stops a run where it stands; old runs go
// with their logs past `keepRuns`; a signed webhook starts one run per delivery and a missing or
// wrong signature starts none; a deposed leader's pass is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureOf } from '../../src/api/pipelines/plugin.js';
import { createBackends } from '../../src/backends/index.js';
import { cronController, slotRunName } from '../../src/controllers/cron/controller.js';
import type { PassContext } from '../../src/controllers/framework/define.js';
import { pipelinesController } from '../../src/controllers/pipelines/controller.js';
import type { Resource } from '../../src/core/resources/resource.js';
import { isStaleEpochError } from '../../src/ha/leader/errors.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { LeaderKeyRegistry } from '../../src/ha/leader/keys.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { createSimBackends } from '../../src/sim/index.js';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from '../control/harness.js';
import { until } from '../helpers/poll.js';

type Json = Record<string, unknown>;
const key = new LeaderKeyRegistry().register('pipelines', 120);
const SECRET = 'a-webhook-secret-of-the-test';

interface RunOutputs {
  backendId: string;
  state: string;
  steps: { stage: string; step: string; state: string; exitCode?: number }[];
  finishedAt?: string;
}

describe('pipelines (one process, real PostgreSQL)', () => {
  let h: ControlHarness;
  const sim = createSimBackends();
  let elector: MemoryElector;
  let term: LeaderTerm;
  const controller = () =>
    pipelinesController({ leaderKey: key, service: h.service, runner: h.ports.runner });

  const req = async (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    tenant = 't1',
  ) => {
    const res = await h.app.inject({
      method,
      url,
      headers: { [TENANT_HEADER]: tenant },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
    const json =
      String(res.headers['content-type'] ?? '').includes('json') &&
      !String(res.headers['content-type']).includes('ndjson');
    return { status: res.statusCode, body: (json && res.body ? res.json() : {}) as Json, text: res.body };
  };
  const ctxOf = (t: LeaderTerm): PassContext => ({
    signal: t.signal,
    term: t,
    epoch: t.epoch,
    now: () => Date.now(),
    db: h.db,
    fenced: (fn) => fencedTransaction(h.db, t, fn),
  });
  const outputsOf = async (id: string) =>
    ((await req('GET', `/v1/pipeline-runs/${id}`)).body.status as { outputs?: RunOutputs }).outputs;
  /** Passes until the run's recorded state is `state`. */
  const runUntil = async (id: string, state: string) => {
    const pipelines = controller();
    await until(
      async () => {
        await pipelines.pass(ctxOf(term));
        return (await outputsOf(id))?.state === state;
      },
      20_000,
      `run ${id} ${state}`,
      20,
    );
    return (await outputsOf(id))!;
  };
  const step = (name: string, ...commands: string[]) => ({ name, image: 'node:20', commands });
  const pipeline = async (name: string, stages: unknown[], more: Json = {}) => {
    const res = await req('POST', '/v1/pipelines', { name, spec: { stages, ...more } });
    expect(res.status).toBe(202);
    return res.body.resource as Resource;
  };
  const startRun = async (name: string, pipelineId: string) => {
    const res = await req('POST', '/v1/pipeline-runs', { name, spec: { pipeline: pipelineId } });
    expect(res.status).toBe(202);
    return res.body.resource as Resource;
  };
  const logs = async (id: string, stepPath: string, query = '') => {
    const res = await req('GET', `/v1/pipeline-runs/${id}/logs?step=${encodeURIComponent(stepPath)}${query}`);
    return {
      status: res.status,
      lines:
        res.status === 200
          ? res.text
              .trim()
              .split('\n')
              .map((l) => (JSON.parse(l) as { line: string }).line)
          : [],
      body: res.status === 200 ? {} : res.body,
    };
  };

  beforeAll(async () => {
    h = await openControlHarness('pg', { ports: createBackends({ memory: sim }) });
    h.startWorker();
    elector = new MemoryElector('node-a', new MemoryLeadership(), h.db);
    term = await elector.campaign(key, new AbortController().signal);
  }, 60_000);
  afterAll(async () => {
    await elector?.close();
    await h?.close();
  });

  it('answers 422 naming the field for bad stages, steps and references, and creates nothing', async () => {
    const paths = async (url: string, body: Json) => {
      const res = await req('POST', url, body);
      expect(res.status).toBe(422);
      return [...new Set((res.body.errors as Array<{ path: string }>).map((e) => e.path))];
    };
    expect(await paths('/v1/pipelines', { name: 'p', spec: { stages: [] } })).toEqual(['/spec/stages']);
    expect(
      await paths('/v1/pipelines', {
        name: 'p',
        spec: {
          stages: [
            { name: 'a', steps: [step('x', 'true')] },
            { name: 'a', steps: [step('y', 'true')] },
          ],
        },
      }),
    ).toEqual(['/spec/stages/1/name']);
    expect(
      await paths('/v1/pipelines', {
        name: 'p',
        spec: { stages: [{ name: 'a', steps: [step('x', 'true'), step('x', 'false')] }] },
      }),
    ).toEqual(['/spec/stages/0/steps/1/name']);
    expect(
      await paths('/v1/pipelines', {
        name: 'p',
        spec: { stages: [{ name: 'a', steps: [{ name: 'x', image: 'Not An Image', commands: ['true'] }] }] },
      }),
    ).toEqual(['/spec/stages/0/steps/0/image']);
    expect(
      await paths('/v1/pipelines', { name: 'p', spec: { stages: [{ name: 'a', steps: [step('x')] }] } }),
    ).toEqual(['/spec/stages/0/steps/0/commands']);
    expect(
      await paths('/v1/pipelines', {
        name: 'p',
        spec: { stages: [{ name: 'a', steps: [step('x', 'true')] }], keepRuns: 0 },
      }),
    ).toEqual(['/spec/keepRuns']);
    expect(
      await paths('/v1/pipeline-runs', { name: 'r', spec: { pipeline: 'pl_00000000000000000000000000' } }),
    ).toEqual(['/spec/pipeline']);
    expect(((await req('GET', '/v1/pipelines')).body.items as unknown[]).length).toBe(0);
    expect(((await req('GET', '/v1/pipeline-runs')).body.items as unknown[]).length).toBe(0);
  });

  it('runs the stages in order, follows the run into its status, serves each step log, fails and cancels runs', {
    timeout: 60_000,
  }, async () => {
    const p = await pipeline('app', [
      {
        name: 'build',
        steps: [step('compile', 'echo compiling', 'sleep 0.2', 'echo built'), step('lint', 'echo clean')],
      },
      { name: 'test', steps: [step('unit', 'echo 12 passed')] },
    ]);
    const run = await startRun('app-1', p.id);
    const done = await runUntil(run.id, 'succeeded');
    expect(done.steps.map((s) => [s.stage, s.step, s.state, s.exitCode])).toEqual([
      ['build', 'compile', 'succeeded', 0],
      ['build', 'lint', 'succeeded', 0],
      ['test', 'unit', 'succeeded', 0],
    ]);
    expect(done.finishedAt).toEqual(expect.any(String));
    expect((await logs(run.id, 'build/compile')).lines).toEqual([
      '$ echo compiling',
      'compiling',
      '$ sleep 0.2',
      '$ echo built',
      'built',
      'exit code 0',
    ]);
    expect((await logs(run.id, 'test/unit', '&tail=2')).lines).toEqual(['12 passed', 'exit code 0']);
    const unknown = await logs(run.id, 'test/e2e');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ errors: [{ path: '/querystring/step' }] });
    // Another tenant's run is a 404, logs included.
    expect(
      (await req('GET', `/v1/pipeline-runs/${run.id}/logs?step=test/unit`, undefined, 't2')).status,
    ).toBe(404);
    // A pass over finished runs writes nothing.
    const version = (await req('GET', `/v1/pipeline-runs/${run.id}`)).body.resourceVersion;
    await controller().pass(ctxOf(term));
    expect((await req('GET', `/v1/pipeline-runs/${run.id}`)).body.resourceVersion).toBe(version);

    // A failed step fails the run; the stage after it is skipped.
    const failing = await pipeline('broken', [
      { name: 'build', steps: [step('compile', 'echo oops', 'exit 2')] },
      { name: 'deploy', steps: [step('ship', 'echo never')] },
    ]);
    const bad = await runUntil((await startRun('broken-1', failing.id)).id, 'failed');
    expect(bad.steps.map((s) => [s.step, s.state, s.exitCode])).toEqual([
      ['compile', 'failed', 2],
      ['ship', 'skipped', undefined],
    ]);

    // A cancel stops a long run where it stands; a second cancel is a 200 with nothing to do.
    const slow = await pipeline('slow', [{ name: 'wait', steps: [step('long', 'echo start', 'sleep 600')] }]);
    const long = await startRun('slow-1', slow.id);
    await runUntil(long.id, 'running');
    const cancel = await req('POST', `/v1/pipeline-runs/${long.id}/cancel`);
    expect(cancel.status).toBe(202);
    const canceled = await runUntil(long.id, 'canceled');
    expect(canceled.steps.map((s) => s.state)).toEqual(['canceled']);
    expect((await sim.runner.getRun(canceled.backendId)).state).toBe('canceled');
    expect((await req('POST', `/v1/pipeline-runs/${long.id}/cancel`)).status).toBe(200);
    // A deletion of a pipeline with runs is refused naming them.
    const refused = await req('DELETE', `/v1/pipelines/${slow.id}`);
    expect(refused.status).toBe(409);
  });

  it('keeps the newest keepRuns finished runs and deletes the older ones with their logs', {
    timeout: 60_000,
  }, async () => {
    const p = await pipeline('kept', [{ name: 's', steps: [step('x', 'echo hi')] }], { keepRuns: 2 });
    // (The passes that follow each run delete the older ones as soon as there are three.)
    const backendIds: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = await startRun(`kept-${i}`, p.id);
      backendIds.push((await runUntil(r.id, 'succeeded')).backendId);
    }
    const pipelines = controller();
    await until(
      async () => {
        await pipelines.pass(ctxOf(term));
        const left = (await req('GET', `/v1/pipeline-runs?limit=100`)).body.items as Resource[];
        return left.filter((r) => r.name.startsWith('kept-')).length === 2;
      },
      20_000,
      'two runs kept',
      20,
    );
    const left = ((await req('GET', '/v1/pipeline-runs?limit=100')).body.items as Resource[])
      .filter((r) => r.name.startsWith('kept-'))
      .map((r) => r.name)
      .sort();
    expect(left).toEqual(['kept-3', 'kept-4']);
    const inBackend = new Set((await sim.runner.listRuns({ limit: 1_000 })).items.map((r) => r.id));
    expect(backendIds.map((id) => inBackend.has(id))).toEqual([false, false, true, true]);
  });

  it('runs a pipeline from a cron job once per slot, and refuses a cron target that is neither a call nor a pipeline', {
    timeout: 60_000,
  }, async () => {
    const p = await pipeline('nightly', [{ name: 's', steps: [step('x', 'echo tick')] }]);
    const job = (target: Json) => ({ name: 'tick', spec: { schedule: '* * * * * *', target } });
    const paths = async (target: Json) => {
      const res = await req('POST', '/v1/cron-jobs', job(target));
      expect(res.status).toBe(422);
      return [...new Set((res.body.errors as Array<{ path: string }>).map((e) => e.path))];
    };
    expect(await paths({ pipeline: p.id, url: 'https://x.test/', method: 'POST' })).toEqual([
      '/spec/target/method',
      '/spec/target/url',
    ]);
    expect(await paths({})).toEqual(['/spec/target/url', '/spec/target/method']);
    expect(await paths({ url: 'https://x.test/' })).toEqual(['/spec/target/method']);
    expect(await paths({ pipeline: 'pl_00000000000000000000000000' })).toEqual(['/spec/target/pipeline']);
    const created = await req('POST', '/v1/cron-jobs', job({ pipeline: p.id }));
    expect(created.status).toBe(202);
    const cronJob = created.body.resource as Resource;
    // The pipeline is held by its job.
    expect((await req('DELETE', `/v1/pipelines/${p.id}`)).status).toBe(409);

    const cronKey = new LeaderKeyRegistry().register('cron', 111);
    const cronTerm = await elector.campaign(cronKey, new AbortController().signal);
    const cron = cronController({ leaderKey: cronKey, webhook: h.ports.webhook, service: h.service });
    const slots = async () =>
      (
        await h.db.query<{ slot_ms: number; state: string }>(
          `SELECT (extract(epoch FROM slot) * 1000)::double precision AS slot_ms, state
           FROM stratus_cron_slots WHERE cron_job_id = $1 ORDER BY slot`,
          [cronJob.id],
        )
      ).rows;
    await until(
      async () => {
        await cron.pass(ctxOf(cronTerm));
        return (await slots()).filter((s) => s.state === 'succeeded').length >= 3;
      },
      20_000,
      'three slots fired',
      100,
    );
    await req('POST', `/v1/cron-jobs/${cronJob.id}/pause`);
    await cron.pass(ctxOf(cronTerm));
    const fired = (await slots()).filter((s) => s.state === 'succeeded');
    const runs = ((await req('GET', '/v1/pipeline-runs?limit=500')).body.items as Resource[]).filter(
      (r) => r.labels['stratus.io/cron-job'] === cronJob.id,
    );
    // One run per fired slot, named by its slot, each a cron run of the pipeline.
    expect(runs.map((r) => r.name).sort()).toEqual(
      fired.map((s) => slotRunName(cronJob.id, s.slot_ms)).sort(),
    );
    expect(new Set(runs.map((r) => `${r.spec.pipeline} ${r.spec.trigger}`))).toEqual(
      new Set([`${p.id} cron`]),
    );
    expect((await runUntil(runs[0]!.id, 'succeeded')).steps[0]!.state).toBe('succeeded');
    // A slot found pending whose run exists already is recorded as succeeded with no second run
    // (run and outcome commit together, so only a hand-made state gets here; the name is the slot's).
    await h.db.query(
      `UPDATE stratus_cron_slots SET state = 'pending' WHERE cron_job_id = $1 AND slot = to_timestamp($2 / 1000.0)`,
      [cronJob.id, fired[0]!.slot_ms],
    );
    await cron.pass(ctxOf(cronTerm));
    expect((await slots()).find((s) => s.slot_ms === fired[0]!.slot_ms)!.state).toBe('succeeded');
    const after = ((await req('GET', '/v1/pipeline-runs?limit=500')).body.items as Resource[]).filter(
      (r) => r.labels['stratus.io/cron-job'] === cronJob.id,
    );
    expect(after.length).toBe(runs.length);
  });

  it('starts one run per signed delivery, none for a missing or wrong signature, and refuses a deposed leader', {
    timeout: 60_000,
  }, async () => {
    const p = await pipeline('hooked', [{ name: 's', steps: [step('x', 'echo hooked')] }]);
    const hook = (body: string, headers: Record<string, string>, id = p.id) =>
      h.app.inject({
        method: 'POST',
        url: `/v1/hooks/pipelines/${id}`,
        payload: body,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const runsOf = async () =>
      ((await req('GET', '/v1/pipeline-runs?limit=100')).body.items as Resource[]).filter(
        (r) => r.spec.pipeline === p.id,
      );
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    // No secret yet: refused like a wrong signature.
    expect((await hook(body, { 'x-stratus-signature': signatureOf(SECRET, body) })).statusCode).toBe(401);
    const short = await req('PUT', `/v1/pipelines/${p.id}/webhook-secret`, { secret: 'short' });
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ errors: [{ path: '/body/secret' }] });
    expect((await req('PUT', `/v1/pipelines/${p.id}/webhook-secret`, { secret: SECRET })).status).toBe(204);
    expect((await req('PUT', `/v1/pipelines/${p.id}/webhook-secret`, { secret: SECRET }, 't2')).status).toBe(
      404,
    );

    expect((await hook(body, {})).statusCode).toBe(401);
    expect(
      (await hook(body, { 'x-stratus-signature': signatureOf('another-secret-entirely', body) })).statusCode,
    ).toBe(401);
    expect((await hook(`${body} `, { 'x-stratus-signature': signatureOf(SECRET, body) })).statusCode).toBe(
      401,
    );
    expect(
      (
        await hook(
          body,
          { 'x-stratus-signature': signatureOf(SECRET, body) },
          'pl_00000000000000000000000000',
        )
      ).statusCode,
    ).toBe(401);
    expect(await runsOf()).toEqual([]);

    const signed = { 'x-stratus-signature': signatureOf(SECRET, body), 'x-stratus-delivery': 'delivery-1' };
    const first = await hook(body, signed);
    expect(first.statusCode).toBe(202);
    const again = await hook(body, signed);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    const other = await hook(body, { ...signed, 'x-stratus-delivery': 'delivery-2' });
    expect(other.statusCode).toBe(202);
    const runs = await runsOf();
    expect(runs.map((r) => r.spec.trigger)).toEqual(['webhook', 'webhook']);
    expect((await runUntil(runs[0]!.id, 'succeeded')).steps[0]!.state).toBe('succeeded');
    // The secret removed: refused from then on.
    expect((await req('DELETE', `/v1/pipelines/${p.id}/webhook-secret`)).status).toBe(204);
    expect((await hook(body, { ...signed, 'x-stratus-delivery': 'delivery-3' })).statusCode).toBe(401);
    expect(await runsOf()).toHaveLength(2);

    // A deposed leader's pass is refused by the fence.
    const slow = await pipeline('held', [{ name: 's', steps: [step('x', 'sleep 600')] }]);
    const held = await startRun('held-1', slow.id);
    await until(
      async () => (await outputsOf(held.id))?.backendId !== undefined,
      20_000,
      'the run started',
      20,
    );
    const deposed = term;
    term = await new MemoryElector('node-b', new MemoryLeadership(), h.db).campaign(
      key,
      new AbortController().signal,
    );
    await sim.runner.cancelRun((await outputsOf(held.id))!.backendId, { clientToken: 'test-cancel' });
    const stale = await controller()
      .pass(ctxOf(deposed))
      .catch((e) => e);
    expect(isStaleEpochError(stale)).toBe(true);
    expect((await outputsOf(held.id))!.state).not.toBe('canceled');
    expect((await runUntil(held.id, 'canceled')).state).toBe('canceled');
  });
});
