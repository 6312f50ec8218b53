// The drill report of a run directory: report.json, report.md and timeline.svg (and
// timeline.png when rsvg-convert is at hand), all re-rendered from the run's files, so
// `stratus drill report DIR` and the end of `stratus drill run` write the same thing.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyGates, type GateResult, GatesError, parseGates } from '../check/gates.js';
import { check } from '../check/index.js';
import { readRunDir } from '../run-dir.js';
import { renderMarkdown } from './markdown.js';
import { renderPng } from './png.js';
import { buildReport, type DrillReport } from './report.js';
import { renderTimeline } from './timeline.js';

export { renderMarkdown } from './markdown.js';
export type { DrillReport, RunMeta } from './report.js';
export { buildReport, headline } from './report.js';
export { renderTimeline } from './timeline.js';

/** The files a report writes into the run directory. */
export const REPORT_FILES = {
  json: 'report.json',
  markdown: 'report.md',
  svg: 'timeline.svg',
  png: 'timeline.png',
} as const;

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  readonly report: DrillReport;
  /** The gates' results; empty without a gates file. */
  readonly gates: readonly GateResult[];
  /** The files written, relative to the run directory. */
  readonly files: readonly string[];
}

/** Reads and validates a gates file; throws a GatesError naming the file. */
export async function loadGates(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new GatesError(
      `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatesError(`${file}: not JSON (${(error as Error).message})`);
  }
  return parseGates(value, file);
}

/**
 * Checks the run in `dir`, applies the gates of `gatesFile` when given, and writes the report
 * files into `dir`. Throws a RunDirError for a malformed run, a GatesError for a bad gates file.
 */
export async function writeReport(dir: string, gatesFile?: string): Promise<WrittenReport> {
  const [run, gates] = await Promise.all([
    readRunDir(dir),
    gatesFile === undefined ? undefined : loadGates(gatesFile),
  ]);
  const result = check(run);
  const gateResults = gates === undefined ? undefined : applyGates(result, gates);
  const report = buildReport(run, result, gateResults);
  const files: string[] = [REPORT_FILES.svg];
  await writeFile(join(dir, REPORT_FILES.svg), renderTimeline(run));
  const png = await renderPng(join(dir, REPORT_FILES.svg), join(dir, REPORT_FILES.png));
  if (png.written) files.push(REPORT_FILES.png);
  const markdown = renderMarkdown(report, png.written ? { png: REPORT_FILES.png } : { pngNote: png.reason });
  await Promise.all([
    writeFile(join(dir, REPORT_FILES.json), `${JSON.stringify(report, null, 2)}\n`),
    writeFile(join(dir, REPORT_FILES.markdown), markdown),
  ]);
  files.push(REPORT_FILES.json, REPORT_FILES.markdown);
  return { report, gates: gateResults ?? [], files };
}
