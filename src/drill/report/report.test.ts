import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../check/index.js';
import { goodRun } from '../check/testing.js';
import { writeRunDir } from '../run-dir.js';
import { buildReport, renderMarkdown, renderTimeline, writeReport } from './index.js';
import { faultLanes } from './timeline.js';

const gatesFile = new URL('../../../drills/gates.json', import.meta.url).pathname;
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('report', () => {
  it('writes report.json, report.md and the timeline from the run files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stratus-report-'));
    dirs.push(dir);
    await writeRunDir(dir, goodRun());
    const { report, files, gates } = await writeReport(dir, gatesFile);
    expect(report.passed).toBe(true);
    expect(report.headline).toBe(
      '2 faults injected, 4 requests, 0 lost, 0 unconverged, 0 duplicated, 0 stale calls accepted, 0 overlapping terms, 0 client failures, 0 cross-tenant reads',
    );
    expect(gates.length).toBeGreaterThan(10);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(json).toEqual(JSON.parse(JSON.stringify(report)));
    expect(json.meta).toMatchObject({ seed: 7, scenarios: ['leader-kill', 'worker-kill'], settledT: 6000 });
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain(`**${report.headline}.** Verdict: **PASSED**.`);
    expect(md).toContain('## G3: at most one leader per key at a time; a deposed term cannot write — holds');
    expect(md).toContain('| failoverCrashP99Ms | G4.failoverP99Ms.kill | 250 | <= 1000 | passed |');
    expect(md).toContain('![timeline](timeline.svg)');
    const svg = await readFile(join(dir, 'timeline.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    if (files.includes('timeline.png')) {
      const png = await readFile(join(dir, 'timeline.png'));
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(md).toContain('[timeline.png](timeline.png)');
    } else {
      expect(md).toMatch(/No PNG of the timeline: rsvg-convert/);
    }
  });

  it('lists the violations of a broken guarantee and marks the run failed', () => {
    const run = goodRun();
    const audit = {
      ...run.evidence.audit,
      duplicates: [
        { operation: 'dns.createRecord', clientToken: 'reconcile/dns/d1/1', effects: 2, seqs: [4, 9] },
      ],
    };
    const broken = { ...run, evidence: { ...run.evidence, audit } };
    const md = renderMarkdown(buildReport(broken, check(broken)));
    expect(md).toContain('Verdict: **FAILED**');
    expect(md).toContain(
      '## G2: at most one effect per client token, no call accepted under a dead lease — BROKEN (1)',
    );
    expect(md).toContain(
      '- dns.createRecord had 2 effects for client token reconcile/dns/d1/1 (audit seq 4, 9)',
    );
    expect(md).toContain('No gates file was given.');
  });

  it('draws a band per fault, a lane per leader key with its terms, and per-second series', () => {
    const run = goodRun();
    const svg = renderTimeline({
      ...run,
      faults: [
        ...run.faults,
        { ...run.faults[1]!, target: 'backend:<compute & co>', startT: 4000, endT: 4500 },
      ],
    });
    expect(svg.match(/class="fault"/g)).toHaveLength(3);
    expect(svg).toContain('3. kill backend:&lt;compute &amp; co&gt;');
    expect(svg).not.toContain('<compute');
    // Two keys: sweeper (two terms) and lb-sync (one), in key order.
    expect(svg.match(/class="term"/g)).toHaveLength(3);
    expect(svg).toContain('<title>sweeper: epoch 2, api-2, 1250-end ms</title>');
    expect(svg.indexOf('>lb-sync<')).toBeLessThan(svg.indexOf('>sweeper<'));
    // Requests started in seconds 0, 1, 3 and 4; one failed attempt, in second 4.
    expect(svg.match(/class="rate"/g)).toHaveLength(4);
    expect(svg.match(/class="errors"/g)).toHaveLength(1);
    expect(svg).toContain('<title>4-5 s: 1</title>');
    expect(svg).toMatch(/class="latency" points="[\d., ]+"/);
  });

  it('gives each fault kind a lane with overlapping faults merged, and no per-fault band past 20 faults', () => {
    const run = goodRun();
    const kinds = ['kill', 'pause', 'backend-outage'] as const;
    // 1,200 faults, one every 1.5 s, each lasting 5 s (3 in 21 0.1 s, one of each kind): a kind's windows
    // (4.5 s apart) overlap, in runs that the short ones break.
    const faults = Array.from({ length: 1_200 }, (_, i) => ({
      ...run.faults[1]!,
      action: kinds[i % 3]!,
      startT: i * 1_500,
      endT: i * 1_500 + (i % 21 >= 18 ? 100 : 5_000),
    }));
    const lanes = faultLanes(faults);
    expect([...lanes.keys()]).toEqual(['backend-outage', 'kill', 'pause']);
    expect(lanes.get('kill')![0]).toEqual({
      startT: 0,
      endT: 15 * 1_500 + 5_000,
      faults: [1, 4, 7, 10, 13, 16, 19],
    });
    const spans = [...lanes.values()].flat();
    expect(spans.length).toBeLessThan(200);
    expect(spans.reduce((n, span) => n + span.faults.length, 0)).toBe(1_200);
    const merged = faultLanes([
      { ...faults[0]!, startT: 0, endT: 5_000 },
      { ...faults[0]!, startT: 4_000, endT: 6_000 },
      { ...faults[0]!, startT: 9_000, endT: 9_500 },
    ]);
    expect(merged.get('kill')).toEqual([
      { startT: 0, endT: 6_000, faults: [1, 2] },
      { startT: 9_000, endT: 9_500, faults: [3] },
    ]);
    const svg = renderTimeline({ ...run, faults });
    expect(svg.match(/class="fault"/g)).toBeNull();
    expect(svg).toContain('>kill (400)<');
    expect(svg.match(/class="fault-span"/g)).toHaveLength(spans.length);
    // The few-fault run keeps its bands and gets its lanes too.
    const few = renderTimeline(run);
    expect(few.match(/class="fault"/g)).toHaveLength(2);
    expect(few).toContain('>kill (2)<');
  });

  it('renders and checks a history too long to spread into Math.max', () => {
    const run = goodRun();
    const history = Array.from({ length: 200_000 }, (_, i) => ({
      type: 'attempt' as const,
      req: 1,
      t: i,
      attempt: 1,
      status: 200,
      latencyMs: 1,
    }));
    const long = { ...run, history: [...run.history, ...history] };
    expect(renderTimeline(long)).toContain('200 s');
    expect(check(long).totals.attempts).toBe(200_005);
  });
});
