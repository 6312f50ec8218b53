// The operations this session started (read again every second while any is unfinished), and
// any other one by id.

import { useState } from 'preact/hooks';
import { type Operation, sessionOperations } from '../api.js';
import { href, useApi, useInterval } from '../hooks.js';
import { Badge, show } from '../table.js';

const FINISHED = new Set(['succeeded', 'failed', 'superseded']);

function OperationRow({ id }: { id: string }) {
  const op = useApi<Operation>(`/v1/operations/${encodeURIComponent(id)}`);
  useInterval(() => {
    if (!op.data || !FINISHED.has(op.data.state)) op.reload();
  }, 1000);
  const o = op.data;
  return (
    <tr data-key={id}>
      <td>
        <a href={href('operations', id)}>
          <code>{id}</code>
        </a>
      </td>
      <td>{o ? `${o.verb}${o.action ? ` ${o.action}` : ''}` : '…'}</td>
      <td>{o ? <a href={href('r', o.kind, o.resourceId)}>{`${o.kind}/${o.resourceId}`}</a> : '…'}</td>
      <td>{o ? <Badge value={o.state} /> : op.error ? op.error.message : '…'}</td>
      <td class="message">{o?.error ? `${o.error.reason}: ${o.error.message}` : '—'}</td>
      <td>{show(o?.createdAt)}</td>
      <td>{show(o?.finishedAt)}</td>
    </tr>
  );
}

export function Operations({ selected }: { selected: string | undefined }) {
  const [ids] = useState(() => {
    const mine = sessionOperations.list();
    return selected && !mine.includes(selected) ? [selected, ...mine] : mine;
  });
  const [lookup, setLookup] = useState('');
  return (
    <section>
      <header class="page-head">
        <h1>Operations</h1>
      </header>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (lookup.trim()) window.location.hash = href('operations', lookup.trim());
        }}
      >
        <label for="op-id">Operation id</label>
        <input id="op-id" value={lookup} onInput={(e) => setLookup((e.target as HTMLInputElement).value)} />
        <button type="submit">Show</button>
      </form>
      {ids.length === 0 ? (
        <p class="muted">no operations started in this session</p>
      ) : (
        <table aria-label="operations">
          <thead>
            <tr>
              <th>id</th>
              <th>verb</th>
              <th>resource</th>
              <th>state</th>
              <th>error</th>
              <th>created</th>
              <th>finished</th>
            </tr>
          </thead>
          <tbody>
            {ids.map((id) => (
              <OperationRow key={id} id={id} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
