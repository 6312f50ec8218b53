// The metric names a PromQL expression reads, to hold the checked-in dashboard and alert rules
// to the metrics the program really exports.

/** Metric names in `expr`: label matchers, grouping clauses and strings removed first. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...new Set(bare.match(/\b(?:stratus|http)_[a-z0-9_]+\b/g) ?? [])];
}

/** The series names a registry's exposition declares (histograms with their three series). */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (m === null) continue;
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram' || type === 'summary')
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

/** Each expression's metric names that `exported` lacks, as `where: name` lines. */
export function unknownMetrics(
  exprs: ReadonlyArray<{ where: string; expr: string }>,
  exported: ReadonlySet<string>,
): string[] {
  return exprs.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((n) => !exported.has(n))
      .map((n) => `${where}: ${n}`),
  );
}
