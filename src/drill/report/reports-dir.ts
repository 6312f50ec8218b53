// The drill reports an operator keeps in one directory (`--drill-reports-dir`): each run
// directory in it that holds a report.json, read-only, for `/v1/system/drill-reports` and the
// console. A name is one path segment of safe characters, and the file it names must resolve
// inside the directory after symbolic links: `..`, a slash or a link out of it is refused.

import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { REPORT_FILES } from './index.js';
import type { DrillReport } from './report.js';

/** What the listing says of one report. */
export interface DrillReportSummary {
  readonly name: string;
  readonly startedAt: string | null;
  readonly scenarios: readonly string[];
  readonly headline: string | null;
  readonly passed: boolean | null;
  /** Whether the run directory holds timeline.svg. */
  readonly timeline: boolean;
}

/** Why a name was refused: not a name, or no such report. */
export class DrillReportNameError extends Error {
  override readonly name = 'DrillReportNameError';
  constructor(
    readonly reason: 'invalid' | 'missing',
    message: string,
  ) {
    super(message);
  }
}

export const isDrillReportNameError = (error: unknown): error is DrillReportNameError =>
  error instanceof Error && error.name === 'DrillReportNameError';

/** One path segment: letters, digits, `.`, `_`, `-`, not starting with a dot. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** The reports of one directory. */
export interface DrillReportsDir {
  /** Every run directory with a report.json, newest first. */
  list(): Promise<DrillReportSummary[]>;
  /** report.json of run `name`, as written. */
  report(name: string): Promise<unknown>;
  /** timeline.svg of run `name`. */
  timeline(name: string): Promise<string>;
}

/** Reads the reports under `dir`; nothing is written. */
export function drillReportsDir(dir: string): DrillReportsDir {
  /** The real path of `file` in run `name`, refused unless it is inside `dir`. */
  async function inside(name: string, file: string): Promise<string> {
    if (!NAME.test(name))
      throw new DrillReportNameError('invalid', 'is not a report name (letters, digits, ._-)');
    const root = await realpath(dir);
    let real: string;
    try {
      real = await realpath(join(root, name, file));
    } catch {
      throw new DrillReportNameError('missing', `no ${file} in drill report ${name}`);
    }
    if (!real.startsWith(root + sep))
      throw new DrillReportNameError('invalid', 'points outside the reports directory');
    return real;
  }

  const readJson = async (name: string) =>
    JSON.parse(await readFile(await inside(name, REPORT_FILES.json), 'utf8')) as unknown;

  return {
    async list() {
      const entries = await readdir(await realpath(dir), { withFileTypes: true });
      const items: DrillReportSummary[] = [];
      for (const entry of entries) {
        if (!entry.isDirectory() || !NAME.test(entry.name)) continue;
        let report: Partial<DrillReport>;
        try {
          report = (await readJson(entry.name)) as Partial<DrillReport>;
        } catch {
          continue; // a run without a report (yet), or a report that is not JSON
        }
        const timeline = await inside(entry.name, REPORT_FILES.svg).then(
          () => true,
          () => false,
        );
        items.push({
          name: entry.name,
          startedAt: typeof report.meta?.startedAt === 'string' ? report.meta.startedAt : null,
          scenarios: Array.isArray(report.meta?.scenarios) ? report.meta.scenarios.map(String) : [],
          headline: typeof report.headline === 'string' ? report.headline : null,
          passed: typeof report.passed === 'boolean' ? report.passed : null,
          timeline,
        });
      }
      return items.sort(
        (a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.name.localeCompare(b.name),
      );
    },
    report: readJson,
    async timeline(name) {
      return readFile(await inside(name, REPORT_FILES.svg), 'utf8');
    },
  };
}
