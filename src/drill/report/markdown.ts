// report.md: the report for a person. The headline, the run, one section per guarantee (its
// verdict, its figures, what broke it, its detail rows), the gates, and the timeline.

import { GUARANTEES, type Row } from '../check/index.js';
import type { DrillReport } from './report.js';

/** How many violations a section lists before it counts the rest (report.json has them all). */
const MAX_VIOLATIONS = 50;

const cell = (v: unknown) => String(v ?? '-').replaceAll('|', '\\|');

function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function rowsTable(rows: readonly Row[]): string {
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return table(
    header,
    rows.map((r) => header.map((h) => r[h])),
  );
}

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /** The PNG's file name when one was rendered; otherwise a note says why there is none. */
  readonly png?: string;
  readonly pngNote?: string;
}

/** Renders report.md. */
export function renderMarkdown(report: DrillReport, options: MarkdownOptions = {}): string {
  const { meta, result } = report;
  const out: string[] = [];
  out.push(`# Drill report: ${meta.scenarios.join(', ') || 'no scenario'}`, '');
  out.push(`**${report.headline}.** Verdict: **${report.passed ? 'PASSED' : 'FAILED'}**.`, '');
  out.push(
    `Started ${meta.startedAt}, seed ${meta.seed}, replicas ${Object.entries(meta.replicas)
      .map(([role, n]) => `${role} ${n}`)
      .join(', ')}, load ${meta.ratePerS}/s for ${meta.durationMs} ms, settled at ${meta.settledT} ms.`,
    '',
  );
  const t = result.totals;
  out.push(
    table(
      [
        'requests',
        'attempts',
        'retries',
        'completed',
        'resources',
        'terms',
        'jobs',
        'audited calls',
        'faults',
      ],
      [
        [
          t.requests,
          t.attempts,
          t.retries,
          t.completed,
          t.resources,
          t.terms,
          t.jobs,
          t.auditCalls,
          Object.entries(t.faultsByAction)
            .map(([a, n]) => `${a} ${n}`)
            .join(', ') || '0',
        ],
      ],
    ),
    '',
  );
  out.push(
    table(
      ['guarantee', 'verdict', 'violations'],
      GUARANTEES.map((id) => [
        `${id}: ${result.guarantees[id].title}`,
        result.guarantees[id].ok ? 'holds' : 'BROKEN',
        result.guarantees[id].violations.length,
      ]),
    ),
    '',
  );
  const missed = (report.gates ?? []).filter((g) => g.status === 'missed');
  if (missed.length > 0) {
    out.push('Missed gates:', '', ...missed.map((g) => `- ${g.message}`), '');
  }
  out.push('![timeline](timeline.svg)', '');
  if (options.png) out.push(`A PNG of the timeline: [${options.png}](${options.png}).`, '');
  else if (options.pngNote) out.push(`No PNG of the timeline: ${options.pngNote}.`, '');

  for (const id of GUARANTEES) {
    const g = result.guarantees[id];
    out.push(`## ${id}: ${g.title} — ${g.ok ? 'holds' : `BROKEN (${g.violations.length})`}`, '');
    out.push(
      table(
        ['figure', 'value'],
        Object.entries(g.figures).map(([k, v]) => [k, v ?? 'not measured']),
      ),
      '',
    );
    if (g.violations.length > 0) {
      out.push('Violations:', '');
      for (const v of g.violations.slice(0, MAX_VIOLATIONS)) out.push(`- ${v}`);
      if (g.violations.length > MAX_VIOLATIONS) {
        out.push(`- … and ${g.violations.length - MAX_VIOLATIONS} more (report.json lists them all)`);
      }
      out.push('');
    }
    if (g.rows && g.rows.length > 0) out.push(rowsTable(g.rows), '');
  }

  out.push('## Gates', '');
  if (report.gates === undefined) out.push('No gates file was given.', '');
  else {
    out.push(
      table(
        ['gate', 'figure', 'value', 'threshold', 'status'],
        report.gates.map((g) => [
          g.name,
          g.figure,
          g.value ?? 'not measured',
          [g.max !== undefined ? `<= ${g.max}` : '', g.min !== undefined ? `>= ${g.min}` : '']
            .filter(Boolean)
            .join(', '),
          g.status,
        ]),
      ),
      '',
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
