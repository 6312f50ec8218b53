import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { goodRun } from '../drill/check/testing.js';
import { type DrillRun, writeRunDir } from '../drill/run-dir.js';
import { drillReport } from './drill-report.js';

const gatesFile = new URL('../../drills/gates.json', import.meta.url).pathname;
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function runDir(run: DrillRun): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-drill-report-'));
  dirs.push(dir);
  await writeRunDir(dir, run);
  return dir;
}

async function invoke(argv: string[]) {
  let out = '';
  let err = '';
  const code = await drillReport(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('stratus drill report', () => {
  it('re-renders a good run and exits 0 with every gate passed', async () => {
    const dir = await runDir(goodRun());
    const { code, out, err } = await invoke([dir, '--gate', gatesFile]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^2 faults injected, 4 requests, 0 lost/);
    expect(out).toContain('G1 holds   every acknowledged request reaches a terminal state');
    expect(out).toContain('gate resumeP99Ms passed: G4.resumeP99Ms = 1100 (<= 10000)');
    expect(out).toContain(`report: ${join(dir, 'report.md')}`);
    expect(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')).passed).toBe(true);
  });

  it('exits 1 naming the broken guarantee and the missed gate', async () => {
    const run = goodRun();
    const history = run.history.map((e) =>
      e.type === 'complete' && e.req === 3 ? { ...e, tenantsSeen: ['acme', 'globex'] } : e,
    );
    const dir = await runDir({ ...run, history });
    const { code, err } = await invoke([dir, '--gate', gatesFile]);
    expect(code).toBe(1);
    expect(err).toContain(
      "G7 broken: request 3 (GET /v1/instances) sent with tenant acme's key saw data of globex",
    );
    expect(err).toContain('gate crossTenant missed: G7.crossTenant = 1 > 0');
  });

  it('exits 1 on a broken guarantee without a gates file too', async () => {
    const run = goodRun();
    const dir = await runDir({
      ...run,
      history: run.history.filter((e) => !(e.type === 'complete' && e.req === 1)),
    });
    const { code, err } = await invoke([dir]);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^G1 broken: request 1 \(create instances, tenant acme\) was invoked at 100 ms and never completed/,
    );
  });

  it('exits 2 naming the file and line of a malformed run, and on bad usage', async () => {
    const dir = await runDir(goodRun());
    await writeFile(join(dir, 'history.ndjson'), '{"type":"invoke","req":1}\n');
    const malformed = await invoke([dir]);
    expect(malformed.code).toBe(2);
    expect(malformed.err).toMatch(new RegExp(`${join(dir, 'history.ndjson')} line 1: the record lacks `));
    expect((await invoke([])).code).toBe(2);
    expect((await invoke([dir, '--gates', gatesFile])).err).toMatch(/Unknown option '--gates'/);
    const good = await runDir(goodRun());
    const badGates = join(good, 'gates.json');
    await writeFile(badGates, '{"gates":{"x":{"figure":"G1.lost"}}}');
    expect(await invoke([good, '--gate', badGates])).toMatchObject({
      code: 2,
      err: `stratus drill report: ${badGates}: /gates/x needs max or min\n`,
    });
  });
});
