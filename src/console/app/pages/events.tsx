// The tenant's events, newest first, the last 200: the log read page by page (the API lists
// from the oldest), then the watch API from where the listing ended, so none falls between.

import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, type StratusEvent } from '../api.js';
import { href } from '../hooks.js';
import { Badge, Problem, show, Table } from '../table.js';
import { watch } from '../watch.js';

const KEEP = 200;
const PAGE = 500;

/** The last {@link KEEP} events, newest first, and the cursor after them. */
async function recent(): Promise<{ events: StratusEvent[]; since: number }> {
  let events: StratusEvent[] = [];
  let since = 0;
  for (;;) {
    const page = await api<{ items: StratusEvent[]; nextSince: number; more: boolean }>(
      `/v1/events?since=${since}&limit=${PAGE}`,
    );
    events = [...page.items.reverse(), ...events].slice(0, KEEP);
    since = page.nextSince;
    if (!page.more) return { events, since };
  }
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
