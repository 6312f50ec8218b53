// The tenant's events as they happen (the watch API), newest first, the last 200.

import { useEffect, useState } from 'preact/hooks';
import type { StratusEvent } from '../api.js';
import { href } from '../hooks.js';
import { Badge, show, Table } from '../table.js';
import { watch } from '../watch.js';

const KEEP = 200;

export function Events() {
  const [events, setEvents] = useState<StratusEvent[]>([]);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const stop = new AbortController();
    watch(
      '',
      {
        onEvent: (e) => setEvents((old) => [e, ...old].slice(0, KEEP)),
        onOpen: setLive,
      },
      stop.signal,
    );
    return () => stop.abort();
  }, []);
  return (
    <section>
      <header class="page-head">
        <h1>Events</h1>
        <span class={`live ${live ? 'on' : 'off'}`}>{live ? 'live' : 'connecting…'}</span>
      </header>
      <Table
        label="events"
        rows={events}
        rowKey={(e) => String(e.id)}
        empty="waiting for events: create, change or delete something"
        columns={[
          { header: 'id', cell: (e) => e.id },
          { header: 'time', cell: (e) => show(e.time) },
          { header: 'type', cell: (e) => e.type },
          {
            header: 'resource',
            cell: (e) => <a href={href('r', e.kind, e.resourceId)}>{`${e.kind}/${e.name}`}</a>,
          },
          { header: 'phase', cell: (e) => (e.phase ? <Badge value={e.phase} /> : '—') },
          { header: 'reason', cell: (e) => show(e.reason) },
          { header: 'message', cell: (e) => <span class="message">{show(e.message)}</span> },
        ]}
      />
    </section>
  );
}
