// A kind's resources (live: the list is read again on every watch event of the kind), one
// resource with its conditions ("why is it not ready?"), and the create and delete buttons.

import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  type Accepted,
  type ApiError,
  api,
  idempotencyKey,
  type Resource,
  sessionOperations,
} from '../api.js';
import { href, useApi } from '../hooks.js';
import type { ActionInfo, JsonSchema, KindInfo } from '../kinds.js';
import { ActionForm, CreateForm } from '../schema-form.js';
import { Badge, type Column, Problem, show, Table } from '../table.js';
import { watch } from '../watch.js';

/** Re-reads `reload` whenever an event of `query` arrives (coalesced), and says whether the stream is live. */
function useLive(query: string, reload: () => void): boolean {
  const [live, setLive] = useState(false);
  useEffect(() => {
    const stop = new AbortController();
    let pending: ReturnType<typeof setTimeout> | undefined;
    watch(
      query,
      {
        onEvent: () => {
          clearTimeout(pending);
          pending = setTimeout(reload, 100);
        },
        onOpen: (open) => {
          setLive(open);
          // Events from before the stream opened are not in it: read the state once it is.
          if (open) reload();
        },
      },
      stop.signal,
    );
    return () => {
      clearTimeout(pending);
      stop.abort();
    };
  }, [query, reload]);
  return live;
}

/** Why it is (not) ready: the Ready condition's reason and message. */
const readiness = (r: Resource) => r.status.conditions.find((c) => c.type === 'Ready');

async function remove(kind: string, r: Resource): Promise<Accepted> {
  const accepted = await api<Accepted>(`/v1/${kind}/${encodeURIComponent(r.id)}`, {
    method: 'DELETE',
    headers: { 'idempotency-key': idempotencyKey() },
  });
  sessionOperations.add(accepted.operation.id);
  return accepted;
}

function OperationNote({ accepted }: { accepted: Accepted | undefined }) {
  if (!accepted) return null;
  const op = accepted.operation;
  return (
    <p class="note" role="status">
      {op.action ?? op.verb} of {op.kind}/{op.resourceId} accepted: operation{' '}
      <a href={href('operations', op.id)}>{op.id}</a>
    </p>
  );
}

export function ResourceList({ kind, kinds }: { kind: KindInfo; kinds: readonly KindInfo[] }) {
  const list = useApi<{ items: Resource[] }>(`/v1/${kind.name}?limit=100`);
  const live = useLive(`kind=${encodeURIComponent(kind.name)}`, list.reload);
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [accepted, setAccepted] = useState<Accepted | undefined>(undefined);
  const create = async (body: Record<string, unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      const a = await api<Accepted>(`/v1/${kind.name}`, {
        method: 'POST',
        body,
        headers: { 'idempotency-key': idempotencyKey() },
      });
      sessionOperations.add(a.operation.id);
      setAccepted(a);
      setCreating(false);
      list.reload();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };

  const columns = useMemo<Column<Resource>[]>(
    () => [
      { header: 'name', cell: (r) => <a href={href('r', kind.name, r.id)}>{r.name}</a> },
      { header: 'id', cell: (r) => <code>{r.id}</code> },
      { header: 'phase', cell: (r) => <Badge value={r.status.phase} /> },
      { header: 'reason', cell: (r) => show(readiness(r)?.reason) },
      { header: 'message', cell: (r) => <span class="message">{show(readiness(r)?.message)}</span> },
      { header: 'updated', cell: (r) => show(r.updatedAt) },
      {
        header: '',
        cell: (r) => (
          <button
            type="button"
            class="danger"
            aria-label={`delete ${r.name}`}
            disabled={r.deletionRequestedAt !== null}
            onClick={() => remove(kind.name, r).then(setAccepted, setError).finally(list.reload)}
          >
            Delete
          </button>
        ),
      },
    ],
    [kind.name, list.reload],
  );

  return (
    <section>
      <header class="page-head">
        <h1>{kind.name}</h1>
        <span class={`live ${live ? 'on' : 'off'}`} title="the watch stream">
          {live ? 'live' : 'connecting…'}
        </span>
        <button type="button" onClick={() => setCreating(!creating)}>
          {creating ? 'Cancel' : `New ${kind.name}`}
        </button>
      </header>
      <OperationNote accepted={accepted} />
      <Problem error={error} />
      {creating && (
        <CreateForm kind={kind} kinds={kinds} errors={error?.errors ?? []} busy={busy} onSubmit={create} />
      )}
      <Problem error={list.error} />
      <Table
        label={kind.name}
        columns={columns}
        rows={list.data?.items}
        rowKey={(r) => r.id}
        empty={`no ${kind.name} yet`}
      />
    </section>
  );
}

export function ResourceDetail({
  kind,
  kinds,
  id,
}: {
  kind: KindInfo;
  kinds: readonly KindInfo[];
  id: string;
}) {
  const one = useApi<Resource>(`/v1/${kind.name}/${encodeURIComponent(id)}`);
  const live = useLive(`resource=${encodeURIComponent(id)}`, one.reload);
  const [accepted, setAccepted] = useState<Accepted | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  // The action whose body form is open, if any.
  const [asking, setAsking] = useState<(ActionInfo & { body: JsonSchema }) | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const r = one.data;
  const gone = one.error?.status === 404;
  const act = async (action: string, body: Record<string, unknown> = {}) => {
    setBusy(true);
    setError(undefined);
    try {
      const a = await api<Accepted>(`/v1/${kind.name}/${encodeURIComponent(id)}/${action}`, {
        method: 'POST',
        body,
        headers: { 'idempotency-key': idempotencyKey() },
      });
      sessionOperations.add(a.operation.id);
      setAccepted(a);
      setAsking(undefined);
    } catch (err) {
      // The form stays open, with the API's field errors beside their fields.
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const start = (a: ActionInfo) => {
    if (a.body?.properties && Object.keys(a.body.properties).length > 0) setAsking({ ...a, body: a.body });
    else void act(a.name);
  };
  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href('r', kind.name)}>{kind.name}</a> / {r?.name ?? id}
        </h1>
        <span class={`live ${live ? 'on' : 'off'}`}>{live ? 'live' : 'connecting…'}</span>
      </header>
      <OperationNote accepted={accepted} />
      <Problem error={error} />
      {gone ? (
        <p class="note" role="status">
          {id} is gone (deleted).
        </p>
      ) : (
        <Problem error={one.error} />
      )}
      {r && !gone && (
        <>
          <dl class="facts">
            <dt>id</dt>
            <dd>
              <code>{r.id}</code>
            </dd>
            <dt>phase</dt>
            <dd>
              <Badge value={r.status.phase} />
            </dd>
            <dt>generation</dt>
            <dd>
              {r.generation} (observed {r.status.observedGeneration})
            </dd>
            <dt>labels</dt>
            <dd>{show(Object.keys(r.labels).length ? r.labels : null)}</dd>
            <dt>created</dt>
            <dd>{show(r.createdAt)}</dd>
          </dl>
          <h2>Conditions</h2>
          <Table
            label="conditions"
            rows={r.status.conditions}
            rowKey={(c) => c.type}
            empty="no conditions reported yet"
            columns={[
              { header: 'type', cell: (c) => c.type },
              { header: 'status', cell: (c) => <Badge value={c.status} /> },
              { header: 'reason', cell: (c) => c.reason },
              { header: 'message', cell: (c) => <span class="message">{c.message}</span> },
              { header: 'since', cell: (c) => show(c.lastTransitionTime) },
              { header: 'generation', cell: (c) => c.observedGeneration },
            ]}
          />
          <h2>Spec</h2>
          <pre class="json" data-part="spec">
            {JSON.stringify(r.spec, null, 2)}
          </pre>
          <h2>Outputs</h2>
          <pre class="json" data-part="outputs">
            {JSON.stringify(r.status.outputs ?? {}, null, 2)}
          </pre>
          <div class="actions">
            {kind.actions.map((a) => (
              <button
                key={a.name}
                type="button"
                aria-pressed={asking?.name === a.name}
                disabled={busy}
                onClick={() => start(a)}
              >
                {a.name}
              </button>
            ))}
            <button
              type="button"
              class="danger"
              disabled={r.deletionRequestedAt !== null}
              onClick={() => remove(kind.name, r).then(setAccepted, setError).finally(one.reload)}
            >
              Delete
            </button>
          </div>
          {asking && (
            <ActionForm
              kind={kind}
              action={asking}
              kinds={kinds}
              errors={error?.errors ?? []}
              busy={busy}
              onSubmit={(body) => void act(asking.name, body)}
              onCancel={() => setAsking(undefined)}
            />
          )}
        </>
      )}
    </section>
  );
}
