// The system pages (operators only): each is a read of /v1/system/<page> every two seconds and
// column config over the one table.

import { useState } from 'preact/hooks';
import { type Accepted, type ApiError, api, idempotencyKey } from '../api.js';
import { href, useApi, useInterval } from '../hooks.js';
import { Badge, type Column, Problem, show, Table } from '../table.js';

// biome-ignore lint/suspicious/noExplicitAny: rows are the API's JSON, read by column
type Row = Record<string, any>;

const REFRESH_MS = 2000;

/** A system page: its path, title and columns. */
interface SystemPage {
  readonly title: string;
  readonly path: string;
  /** The lists the answer holds, each with its columns. */
  readonly tables: readonly {
    key: string;
    label: string;
    rowKey: (r: Row) => string;
    columns: Column<Row>[];
  }[];
}

const text = (field: string): Column<Row> => ({ header: field, cell: (r) => show(r[field]) });
const badge = (field: string): Column<Row> => ({
  header: field,
  cell: (r) => <Badge value={String(r[field])} />,
});

export const SYSTEM_PAGES: Readonly<Record<string, SystemPage>> = {
  replicas: {
    title: 'Replicas',
    path: '/v1/system/replicas',
    tables: [
      {
        key: 'items',
        label: 'replicas',
        rowKey: (r) => r.nodeId,
        columns: [
          text('nodeId'),
          text('role'),
          badge('state'),
          text('version'),
          text('host'),
          text('lastSeenAt'),
          text('silentMs'),
          text('draining'),
        ],
      },
    ],
  },
  leaders: {
    title: 'Leaders and journal',
    path: '/v1/system/leaders',
    tables: [
      {
        key: 'items',
        label: 'leaders',
        rowKey: (r) => r.key,
        columns: [
          text('key'),
          text('holder'),
          badge('holderState'),
          text('epoch'),
          text('since'),
          text('open'),
        ],
      },
      {
        key: 'journal',
        label: 'journal',
        rowKey: (r) => `${r.key}/${r.epoch}`,
        columns: [
          text('key'),
          text('epoch'),
          text('holder'),
          text('acquiredAt'),
          text('endedAt'),
          text('reason'),
        ],
      },
    ],
  },
  queues: {
    title: 'Queues',
    path: '/v1/system/queues',
    tables: [
      {
        key: 'items',
        label: 'queues',
        rowKey: (r) => r.name,
        columns: [
          text('name'),
          text('backend'),
          text('depth'),
          text('waiting'),
          text('inFlight'),
          text('oldestInFlightMs'),
          text('delayed'),
          text('deadLetterStore'),
          text('outbox'),
          text('ledger'),
        ],
      },
    ],
  },
  breakers: {
    title: 'Breakers',
    path: '/v1/system/breakers',
    tables: [
      {
        key: 'items',
        label: 'breakers',
        rowKey: (r) => `${r.node}/${r.port}`,
        columns: [
          text('node'),
          text('port'),
          badge('state'),
          text('since'),
          text('consecutiveFailures'),
          text('totalFailures'),
          text('totalRejected'),
          text('retryAfterMs'),
          text('reportedAt'),
        ],
      },
    ],
  },
  controllers: {
    title: 'Controllers',
    path: '/v1/system/controllers',
    tables: [
      {
        key: 'items',
        label: 'controllers',
        rowKey: (r) => r.name,
        columns: [
          text('name'),
          text('leader'),
          text('epoch'),
          text('passes'),
          text('errors'),
          text('lastError'),
          text('lastPassMs'),
          text('lagMs'),
          text('reportedAt'),
        ],
      },
    ],
  },
};

export function SystemView({ page }: { page: SystemPage }) {
  const data = useApi<Row>(page.path);
  useInterval(data.reload, REFRESH_MS);
  return (
    <section>
      <header class="page-head">
        <h1>{page.title}</h1>
      </header>
      <Problem error={data.error} />
      {page.tables.map((t) => (
        <div key={t.key}>
          {page.tables.length > 1 && <h2>{t.label}</h2>}
          <Table
            label={t.label}
            rows={data.data?.[t.key] as Row[] | undefined}
            rowKey={t.rowKey}
            columns={t.columns}
          />
        </div>
      ))}
    </section>
  );
}

/** Dead letters, with a redrive button per letter. */
export function DeadLetters() {
  const data = useApi<{ items: Row[] }>('/v1/system/dead-letters?limit=100');
  useInterval(data.reload, REFRESH_MS);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const redrive = async (key: string) => {
    setError(undefined);
    try {
      const a = await api<Accepted & { jobKey: string }>(
        `/v1/system/dead-letters/${encodeURIComponent(key)}/redrive`,
        {
          method: 'POST',
          headers: { 'idempotency-key': idempotencyKey() },
        },
      );
      setDone(`redriven ${a.jobKey}${a.operation ? `: operation ${a.operation.id}` : ''}`);
      data.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section>
      <header class="page-head">
        <h1>Dead letters</h1>
      </header>
      {done && (
        <p class="note" role="status">
          {done}
        </p>
      )}
      <Problem error={error ?? data.error} />
      <Table
        label="dead letters"
        rows={data.data?.items}
        rowKey={(r) => r.jobKey}
        empty="no dead letters: every job finished or is still trying"
        columns={[
          { header: 'job', cell: (r) => <code>{r.jobKey}</code> },
          text('kind'),
          text('attempts'),
          { header: 'last error', cell: (r) => <span class="message">{show(r.lastError)}</span> },
          text('failedAt'),
          text('redrives'),
          {
            header: 'resource',
            cell: (r) =>
              r.resource ? (
                <a
                  href={href('r', r.resource.kind, r.resource.id)}
                >{`${r.resource.kind}/${r.resource.id}`}</a>
              ) : (
                '—'
              ),
          },
          {
            header: '',
            cell: (r) => (
              <button type="button" onClick={() => redrive(r.jobKey)}>
                Redrive
              </button>
            ),
          },
        ]}
      />
    </section>
  );
}
