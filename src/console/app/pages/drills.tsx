// Drill reports of `--drill-reports-dir`: the list with each run's verdict and headline, and one
// report with its guarantees, gates and timeline. The timeline is fetched with the key and shown
// from a blob URL: an <img src> cannot send the Authorization header, and an SVG in an <img> runs
// no script.

import { useEffect, useState } from 'preact/hooks';
import { blobUrl } from '../api.js';
import { href, useApi } from '../hooks.js';
import { Badge, Problem, show, Table } from '../table.js';

// biome-ignore lint/suspicious/noExplicitAny: report.json, read by field
type Json = Record<string, any>;

const verdict = (passed: boolean | null | undefined) =>
  passed === true ? 'passed' : passed === false ? 'failed' : 'unknown';

export function DrillList() {
  const list = useApi<{ items: Json[] }>('/v1/system/drill-reports');
  return (
    <section>
      <header class="page-head">
        <h1>Drill reports</h1>
      </header>
      <Problem error={list.error} />
      <Table
        label="drill reports"
        rows={list.error ? [] : list.data?.items}
        rowKey={(r) => r.name}
        empty="no drill reports in the directory"
        columns={[
          { header: 'run', cell: (r) => <a href={href('drills', r.name)}>{r.name}</a> },
          { header: 'verdict', cell: (r) => <Badge value={verdict(r.passed)} /> },
          { header: 'started', cell: (r) => show(r.startedAt) },
          { header: 'scenarios', cell: (r) => (r.scenarios as string[]).join(', ') },
          { header: 'headline', cell: (r) => <span class="message">{show(r.headline)}</span> },
        ]}
      />
    </section>
  );
}

function Timeline({ name }: { name: string }) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  useEffect(() => {
    let made: string | undefined;
    blobUrl(`/v1/system/drill-reports/${encodeURIComponent(name)}/timeline.svg`).then((u) => {
      made = u;
      setUrl(u);
    }, setError);
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [name]);
  if (error) return <Problem error={error} />;
  return url ? (
    <img class="timeline" src={url} alt={`timeline of drill ${name}`} />
  ) : (
    <p class="muted">loading…</p>
  );
}

export function DrillReport({ name }: { name: string }) {
  const report = useApi<Json>(`/v1/system/drill-reports/${encodeURIComponent(name)}`);
  const r = report.data;
  const guarantees = Object.entries((r?.result?.guarantees ?? {}) as Record<string, Json>).map(
    ([id, g]): Json => ({ ...g, id }),
  );
  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href('drills')}>Drill reports</a> / {name}
        </h1>
        {r && <Badge value={verdict(r.passed)} />}
      </header>
      <Problem error={report.error} />
      {r && (
        <>
          <p class="headline">{r.headline}</p>
          <dl class="facts">
            <dt>started</dt>
            <dd>{show(r.meta?.startedAt)}</dd>
            <dt>scenarios</dt>
            <dd>{(r.meta?.scenarios ?? []).join(', ')}</dd>
            <dt>seed</dt>
            <dd>{show(r.meta?.seed)}</dd>
            <dt>replicas</dt>
            <dd>{show(r.meta?.replicas)}</dd>
          </dl>
          <h2>Timeline</h2>
          <Timeline name={name} />
          <h2>Guarantees</h2>
          <Table
            label="guarantees"
            rows={guarantees}
            rowKey={(g) => g.id}
            columns={[
              { header: 'guarantee', cell: (g) => g.id },
              { header: 'statement', cell: (g) => show(g.title) },
              { header: 'verdict', cell: (g) => <Badge value={g.ok === true ? 'holds' : 'broken'} /> },
              {
                header: 'violations',
                cell: (g) => <span class="message">{show((g.violations ?? []).join('; '))}</span>,
              },
            ]}
          />
          {Array.isArray(r.gates) && (
            <>
              <h2>Gates</h2>
              <Table
                label="gates"
                rows={r.gates as Json[]}
                rowKey={(g) => String(g.name)}
                columns={[
                  { header: 'gate', cell: (g) => show(g.name) },
                  { header: 'figure', cell: (g) => show(g.figure) },
                  { header: 'value', cell: (g) => show(g.value) },
                  {
                    header: 'bound',
                    cell: (g) =>
                      g.max !== undefined ? `<= ${g.max}` : g.min !== undefined ? `>= ${g.min}` : '—',
                  },
                  { header: 'result', cell: (g) => <Badge value={String(g.status)} /> },
                ]}
              />
            </>
          )}
        </>
      )}
    </section>
  );
}
