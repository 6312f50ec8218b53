// The watch API (`GET /v1/watch`, Server-Sent Events) read with fetch() rather than
// EventSource: EventSource cannot send an Authorization header, and putting the key in the URL
// would leave it in proxy and server logs. The frames are parsed here; a dropped stream (or one
// the server ended: SlowConsumer, ServerClosing) is resumed with Last-Event-ID after a second,
// so nothing is missed; a Gone end (the cursor's events pruned) starts again from now.

import { authHeaders, type StratusEvent } from './api.js';

/** What a watcher is told besides events. */
export interface WatchHandlers {
  onEvent(event: StratusEvent): void;
  /** The stream is open (true) or down and about to be retried (false). */
  onOpen?(open: boolean): void;
}

const RETRY_MS = 1000;

/** One SSE frame: its fields, joined the way the format says. */
interface Frame {
  id?: string;
  event: string;
  data: string;
}

function parseFrame(block: string): Frame | undefined {
  const frame: Frame = { event: 'message', data: '' };
  let hasData = false;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') frame.id = value;
    else if (field === 'event') frame.event = value;
    else if (field === 'data') {
      frame.data = hasData ? `${frame.data}\n${value}` : value;
      hasData = true;
    }
  }
  return hasData ? frame : undefined;
}

/**
 * Watches `query` (`kind=instances`, `resource=inst_…`, or '' for every event of the tenant)
 * until `signal` aborts: from now on, or after event `since`.
 */
export function watch(query: string, handlers: WatchHandlers, signal: AbortSignal, since?: number): void {
  let lastId: string | undefined = since === undefined ? undefined : String(since);
  const run = async () => {
    while (!signal.aborted) {
      let gone = false;
      try {
        const res = await fetch(`/v1/watch${query ? `?${query}` : ''}`, {
          headers: {
            ...authHeaders(),
            accept: 'text/event-stream',
            ...(lastId ? { 'last-event-id': lastId } : {}),
          },
          signal,
        });
        if (!res.ok || !res.body) throw new Error(`watch answered ${res.status}`);
        handlers.onOpen?.(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffered = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += value.replaceAll('\r\n', '\n');
          let end = buffered.indexOf('\n\n');
          while (end >= 0) {
            const frame = parseFrame(buffered.slice(0, end));
            buffered = buffered.slice(end + 2);
            end = buffered.indexOf('\n\n');
            if (!frame) continue;
            if (frame.event === 'end') {
              gone = (JSON.parse(frame.data) as { reason?: string }).reason === 'Gone';
              continue;
            }
            if (frame.id) lastId = frame.id;
            handlers.onEvent(JSON.parse(frame.data) as StratusEvent);
          }
        }
      } catch {
        // down: retried below
      }
      if (signal.aborted) return;
      if (gone) lastId = undefined;
      handlers.onOpen?.(false);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  void run();
}
