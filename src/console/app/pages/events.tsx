// The tenant's events, newest first, the last 200: the newest of the log in one read
// (`?latest=`), then the watch API from where that read ended, so none falls between.

import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, type StratusEvent } from '../api.js';
import { href } from '../hooks.js';
import { Badge, Problem, show, Table } from '../table.js';
import { watch } from '../watch.js';

const KEEP = 200;

/** The last {@link KEEP} events, newest first, and the cursor after them. */
async function recent(): Promise<{ events: StratusEvent[]; since: number }> {
  const page = await api<{ items: StratusEvent[]; nextSince: number }>(`/v1/events?latest=${KEEP}`);
  return { events: page.items.reverse(), since: page.nextSince };
}

export function Events() {
  const [events, setEvents] = useState<StratusEvent[]>([]);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    const stop = new AbortController();
    recent().then(
      (start) => {
        if (stop.signal.aborted) return;
        setEvents(start.events);
        watch(
          '',
          { onEvent: (e) => setEvents((old) => [e, ...old].slice(0, KEEP)), onOpen: setLive },
          stop.signal,
          start.since,
        );
      },
      (err: unknown) => setError(err as ApiError),
    );
    return () => stop.abort();
  }, []);
  return (
    <section>
      <header class="page-head">
        <h1>Events</h1>
        <span class={`live ${live ? 'on' : 'off'}`}>{live ? 'live' : 'connecting…'}</span>
      </header>
      <Problem error={error} />
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
