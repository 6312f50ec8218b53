import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { drillReportsDir, isDrillReportNameError } from './reports-dir.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'stratus-reports-dir-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const report = (startedAt: string, passed: boolean) =>
  JSON.stringify({ version: 1, meta: { startedAt, scenarios: ['leader-kill'] }, headline: 'h', passed });

/** The reason a read was refused with, or 'read' when it was not. */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'read',
    (e: unknown) => (isDrillReportNameError(e) ? e.reason : `other: ${(e as Error).message}`),
  );

describe('drillReportsDir', () => {
  it('lists the runs that hold a report, newest first, and skips the others', async () => {
    const root = await tree({
      'old/report.json': report('2026-01-01T00:00:00.000Z', true),
      'new/report.json': report('2026-02-01T00:00:00.000Z', false),
      'new/timeline.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
      'running/history.jsonl': '',
      'broken/report.json': 'not json',
      '.hidden/report.json': report('2026-03-01T00:00:00.000Z', true),
    });
    const items = await drillReportsDir(root).list();
    expect(items.map((i) => [i.name, i.passed, i.timeline])).toEqual([
      ['new', false, true],
      ['old', true, false],
    ]);
    expect(await drillReportsDir(root).timeline('new')).toContain('<svg');
  });

  it('refuses names that leave the directory, by path or by link, and says which file is missing', async () => {
    const outside = await tree({ 'report.json': report('2026-01-01T00:00:00.000Z', true) });
    const root = await tree({ 'run/report.json': report('2026-01-01T00:00:00.000Z', true) });
    await symlink(outside, join(root, 'escape'));
    const dir = drillReportsDir(root);
    expect(await refusal(dir.report('run'))).toBe('read');
    for (const name of ['..', '../run', 'run/../run', '.hidden', '', 'a\\b', '%2e%2e'])
      expect(await refusal(dir.report(name)), name).toBe('invalid');
    expect(await refusal(dir.report('escape'))).toBe('invalid');
    expect(await refusal(dir.timeline('run'))).toBe('missing');
    expect(await refusal(dir.report('nope'))).toBe('missing');
    // The link is not listed either: its report is outside.
    expect((await dir.list()).map((i) => i.name)).toEqual(['run']);
  });
});
