// timeline.svg, written by hand: per second, the requests started and the failed attempts
// (bars) and the attempts' p99 latency (a line); one lane per leader key with its terms
// coloured by holder; one lane per fault action with its faults' intervals merged where they
// overlap (a long chaos run injects 1,000+: one band each would cover the picture), and, for a
// run of at most MAX_BANDS faults, every fault also a translucent band across all of it,
// labelled. A pure function of the run: `stratus drill report` re-renders it from the files.

import { maxOf, percentile } from '../check/stats.js';
import type { DrillRun } from '../run-dir.js';

const WIDTH = 1100;
const LEFT = 150;
const RIGHT = 20;
const TOP = 40;
const RATE_H = 110;
const ERROR_H = 60;
const LATENCY_H = 90;
const LANE_H = 18;
const GAP = 26;
const PLOT_W = WIDTH - LEFT - RIGHT;
/** Up to this many faults, each also gets a labelled band across every panel. */
export const MAX_BANDS = 20;

/** Colours of holders, in order of first term; a key's lanes share them. */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#bab0ac'];

/** Escapes text for SVG content and attributes. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** A tick step (1, 2, 5 × 10^n seconds) giving at most 12 ticks over `seconds`. */
function tickStep(seconds: number): number {
  for (let scale = 1; ; scale *= 10) {
    for (const m of [1, 2, 5]) if (seconds / (m * scale) <= 12) return m * scale;
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Per-second series of a run. */
export interface Series {
  readonly seconds: number;
  readonly started: number[];
  readonly failed: number[];
  readonly p99Ms: (number | null)[];
}

/** Buckets the history by second, up to the end of the run. */
export function seriesOf(run: DrillRun): Series {
  const end = Math.max(
    run.evidence.loadEndT,
    run.evidence.settledT,
    maxOf(run.faults.map((f) => f.endT)),
    maxOf(run.history.map((e) => e.t)),
  );
  const seconds = Math.max(1, Math.ceil(end / 1000));
  const started = new Array<number>(seconds).fill(0);
  const failed = new Array<number>(seconds).fill(0);
  const latencies: number[][] = Array.from({ length: seconds }, () => []);
  const bucket = (t: number) => Math.min(seconds - 1, Math.floor(t / 1000));
  for (const e of run.history) {
    if (e.type === 'invoke') started[bucket(e.t)]!++;
    else if (e.type === 'attempt') {
      latencies[bucket(e.t)]!.push(e.latencyMs);
      if (e.failure !== undefined || (e.status !== undefined && e.status >= 500)) failed[bucket(e.t)]!++;
    }
  }
  return { seconds, started, failed, p99Ms: latencies.map((l) => percentile(l, 99)) };
}

/** One merged interval of a fault lane: the faults (1-based numbers) whose windows overlap. */
export interface FaultSpan {
  readonly startT: number;
  readonly endT: number;
  readonly faults: number[];
}

/** Per fault action, its faults' windows merged where they overlap or touch, in time order. */
export function faultLanes(faults: DrillRun['faults']): Map<string, FaultSpan[]> {
  const lanes = new Map<string, FaultSpan[]>();
  const order = faults.map((f, i) => ({ f, n: i + 1 })).sort((a, b) => a.f.startT - b.f.startT);
  for (const { f, n } of order) {
    const spans = lanes.get(f.action) ?? [];
    const last = spans[spans.length - 1];
    if (last && f.startT <= last.endT) {
      spans[spans.length - 1] = {
        startT: last.startT,
        endT: Math.max(last.endT, f.endT),
        faults: [...last.faults, n],
      };
    } else {
      spans.push({ startT: f.startT, endT: f.endT, faults: [n] });
    }
    lanes.set(f.action, spans);
  }
  return new Map([...lanes].sort(([a], [b]) => a.localeCompare(b)));
}

/** Renders timeline.svg. */
export function renderTimeline(run: DrillRun): string {
  const s = seriesOf(run);
  const endMs = s.seconds * 1000;
  const x = (t: number) => LEFT + (Math.max(0, Math.min(t, endMs)) / endMs) * PLOT_W;
  const barW = PLOT_W / s.seconds;
  const keys = [...new Set(run.evidence.terms.map((t) => t.key))].sort();
  const holders = [
    ...new Set([...run.evidence.terms].sort((a, b) => a.acquiredT - b.acquiredT).map((t) => t.holder)),
  ];
  const colour = (holder: string) => PALETTE[holders.indexOf(holder) % PALETTE.length]!;

  const rateTop = TOP;
  const errorTop = rateTop + RATE_H + GAP;
  const latencyTop = errorTop + ERROR_H + GAP;
  const lanesTop = latencyTop + LATENCY_H + GAP;
  const leadersBottom = lanesTop + Math.max(1, keys.length) * LANE_H;
  const lanes = faultLanes(run.faults);
  const faultsTop = leadersBottom + GAP;
  const lanesBottom = lanes.size === 0 ? leadersBottom : faultsTop + lanes.size * LANE_H;
  const axisY = lanesBottom + 8;
  const legendY = axisY + 34;
  const height = legendY + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(
      `Drill timeline: ${run.evidence.scenarios.join(', ') || 'no scenario'} (seed ${run.evidence.seed})`,
    )}</text>`,
  );

  const panel = (top: number, h: number, label: string, max: number) => {
    out.push(
      `<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${h}" fill="#f7f7f7" stroke="#cccccc"/>`,
      `<text x="${LEFT - 8}" y="${top + 12}" text-anchor="end">${escapeXml(label)}</text>`,
      `<text x="${LEFT - 8}" y="${top + h}" text-anchor="end" fill="#777777">0</text>`,
      `<text x="${LEFT - 8}" y="${top + 26}" text-anchor="end" fill="#777777">max ${fmt(max)}</text>`,
    );
  };
  const bars = (top: number, h: number, values: number[], fill: string, cls: string) => {
    const max = Math.max(1, maxOf(values));
    values.forEach((v, i) => {
      if (v === 0) return;
      const bh = (v / max) * (h - 4);
      out.push(
        `<rect class="${cls}" x="${(LEFT + i * barW).toFixed(1)}" y="${(top + h - bh).toFixed(1)}" width="${Math.max(0.5, barW - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${fill}"><title>${i}-${i + 1} s: ${v}</title></rect>`,
      );
    });
    return max;
  };

  panel(rateTop, RATE_H, 'requests / s', Math.max(1, maxOf(s.started)));
  bars(rateTop, RATE_H, s.started, '#4e79a7', 'rate');
  panel(errorTop, ERROR_H, 'failed attempts / s', Math.max(1, maxOf(s.failed)));
  bars(errorTop, ERROR_H, s.failed, '#e15759', 'errors');
  const latencies = s.p99Ms.filter((v): v is number => v !== null);
  const maxLatency = Math.max(1, maxOf(latencies));
  panel(latencyTop, LATENCY_H, 'p99 latency, ms', maxLatency);
  const points = s.p99Ms
    .map((v, i) =>
      v === null
        ? null
        : `${(LEFT + (i + 0.5) * barW).toFixed(1)},${(latencyTop + LATENCY_H - (v / maxLatency) * (LATENCY_H - 4)).toFixed(1)}`,
    )
    .filter((p): p is string => p !== null);
  if (points.length > 0) {
    out.push(
      `<polyline class="latency" points="${points.join(' ')}" fill="none" stroke="#76b7b2" stroke-width="1.5"/>`,
    );
  }

  out.push(`<text x="${LEFT}" y="${lanesTop - 6}" fill="#555555">leaders per key</text>`);
  keys.forEach((key, i) => {
    const y = lanesTop + i * LANE_H;
    out.push(
      `<text x="${LEFT - 8}" y="${y + 13}" text-anchor="end">${escapeXml(key)}</text>`,
      `<rect x="${LEFT}" y="${y + 2}" width="${PLOT_W}" height="${LANE_H - 4}" fill="#f0f0f0"/>`,
    );
    for (const term of run.evidence.terms.filter((t) => t.key === key)) {
      const x0 = x(term.acquiredT);
      const w = Math.max(1, x(term.endedT ?? endMs) - x0);
      const label = `${term.holder} e${term.epoch}`;
      out.push(
        `<rect class="term" x="${x0.toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${LANE_H - 4}" fill="${colour(term.holder)}"><title>${escapeXml(
          `${key}: epoch ${term.epoch}, ${term.holder}, ${term.acquiredT}-${term.endedT ?? 'end'} ms${term.reason ? ` (${term.reason})` : ''}`,
        )}</title></rect>`,
      );
      if (w > label.length * 6.5) {
        out.push(`<text x="${(x0 + 3).toFixed(1)}" y="${y + 13}" fill="#ffffff">${escapeXml(label)}</text>`);
      }
    }
  });

  if (lanes.size > 0)
    out.push(
      `<text x="${LEFT}" y="${faultsTop - 6}" fill="#555555">faults per kind (overlapping ones merged)</text>`,
    );
  [...lanes].forEach(([action, spans], i) => {
    const y = faultsTop + i * LANE_H;
    const count = spans.reduce((n, span) => n + span.faults.length, 0);
    out.push(
      `<text x="${LEFT - 8}" y="${y + 13}" text-anchor="end">${escapeXml(`${action} (${count})`)}</text>`,
      `<rect x="${LEFT}" y="${y + 2}" width="${PLOT_W}" height="${LANE_H - 4}" fill="#f0f0f0"/>`,
    );
    for (const span of spans) {
      const x0 = x(span.startT);
      const w = Math.max(1.5, x(span.endT) - x0);
      const listed =
        span.faults.length > 8 ? `${span.faults.slice(0, 8).join(', ')}…` : span.faults.join(', ');
      out.push(
        `<rect class="fault-span" x="${x0.toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${LANE_H - 4}" fill="#e15759" fill-opacity="0.7"><title>${escapeXml(
          `${action}: ${span.faults.length} fault${span.faults.length === 1 ? '' : 's'} (${listed}), ${span.startT}-${span.endT} ms`,
        )}</title></rect>`,
      );
    }
  });

  // Few faults: each also a band over everything, translucent, so the bars show through.
  if (run.faults.length <= MAX_BANDS)
    run.faults.forEach((f, i) => {
      const x0 = x(f.startT);
      const w = Math.max(2, x(f.endT) - x0);
      const label = `${i + 1}. ${f.action} ${f.target}`;
      out.push(
        `<rect class="fault" x="${x0.toFixed(1)}" y="${TOP - 6}" width="${w.toFixed(1)}" height="${lanesBottom - TOP + 6}" fill="#e15759" fill-opacity="0.15" stroke="#e15759" stroke-opacity="0.5"><title>${escapeXml(
          `${label} → ${f.resolved}, ${f.startT}-${f.endT} ms`,
        )}</title></rect>`,
        `<text x="${(x0 + 2).toFixed(1)}" y="${TOP + 4 + (i % 4) * 11}" fill="#b03030">${escapeXml(label)}</text>`,
      );
    });

  const step = tickStep(s.seconds);
  for (let sec = 0; sec <= s.seconds; sec += step) {
    const tx = x(sec * 1000);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${axisY}" x2="${tx.toFixed(1)}" y2="${axisY + 4}" stroke="#555555"/>`,
      `<text x="${tx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555555">${sec} s</text>`,
    );
  }
  holders.forEach((holder, i) => {
    const lx = LEFT + i * 130;
    out.push(
      `<rect x="${lx}" y="${legendY - 9}" width="10" height="10" fill="${colour(holder)}"/>`,
      `<text x="${lx + 14}" y="${legendY}">${escapeXml(holder)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
