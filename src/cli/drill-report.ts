// `stratus drill report DIR [--gate FILE]`: re-renders a run directory's report (report.json,
// report.md, timeline.svg, timeline.png when rsvg-convert is at hand) from its files, prints
// the headline, each guarantee's verdict and the gates. Exit 0 when every guarantee holds and
// every gate passed, 1 when one did not (named on stderr), 2 for a bad command line, a
// malformed run directory or gates file.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isGatesError } from '../drill/check/gates.js';
import { GUARANTEES } from '../drill/check/index.js';
import { REPORT_FILES, writeReport } from '../drill/report/index.js';
import { isRunDirError } from '../drill/run-dir.js';

/** Help of `stratus drill report`. */
export const DRILL_REPORT_HELP = `Usage: stratus drill report DIR [--gate FILE]

  Re-renders DIR/report.json, report.md and timeline.svg (and timeline.png with rsvg-convert)
  from DIR/history.ndjson, faults.json and evidence.json, and prints the verdicts.

  --gate FILE   thresholds to apply (the checked-in ones: drills/gates.json)

  Exit status: 0 every guarantee holds and every gate passed; 1 one did not; 2 bad usage or
  a malformed run directory or gates file.
`;

/** Where the command writes (the process's streams unless a test passes its own). */
export interface DrillReportIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processIo: DrillReportIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Runs `stratus drill report` with the arguments after `report`; resolves with the exit status. */
export async function drillReport(argv: string[], io: DrillReportIo = processIo): Promise<number> {
  let dir: string;
  let gate: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { gate: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.out(DRILL_REPORT_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new Error('expected one run directory');
    dir = positionals[0]!;
    gate = values.gate;
  } catch (error) {
    io.err(`stratus drill report: ${(error as Error).message}\n\n${DRILL_REPORT_HELP}`);
    return 2;
  }
  let written: Awaited<ReturnType<typeof writeReport>>;
  try {
    written = await writeReport(dir, gate);
  } catch (error) {
    if (isRunDirError(error)) {
      io.err(`stratus drill report: ${join(dir, error.file)}${error.message.slice(error.file.length)}\n`);
      return 2;
    }
    if (isGatesError(error)) {
      io.err(`stratus drill report: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { report, gates, files } = written;
  io.out(`${report.headline}\n`);
  for (const id of GUARANTEES) {
    const g = report.result.guarantees[id];
    io.out(
      `${id} ${g.ok ? 'holds ' : 'BROKEN'}  ${g.title}${g.ok ? '' : ` (${g.violations.length} violations)`}\n`,
    );
  }
  for (const g of gates) io.out(`${g.message}\n`);
  io.out(`report: ${join(dir, REPORT_FILES.markdown)} (${files.join(', ')})\n`);
  if (report.passed) return 0;
  for (const id of GUARANTEES) {
    const g = report.result.guarantees[id];
    if (!g.ok)
      io.err(
        `${id} broken: ${g.violations[0]}${g.violations.length > 1 ? ` (and ${g.violations.length - 1} more)` : ''}\n`,
      );
  }
  for (const g of gates) if (g.status === 'missed') io.err(`${g.message}\n`);
  return 1;
}
