// `stratus events [--kind K] [--resource NAME|ID] [--since ID] [--limit N] [--follow]`: a page of
// the event log, or with `--follow` the watch stream (Server-Sent Events), resumed after its
// last event id when the server ends it (a replica closing, a slow reader dropped).

import type { Context } from './context.js';
import { intOption } from './context.js';
import { CliError, EXIT, usageError } from './errors.js';
import { age, type Column, cell, print, serialise } from './output.js';
import { resolveId } from './resources.js';

/** An event as the API sends it. */
export interface EventItem {
  readonly id: number;
  readonly time: string;
  readonly kind: string;
  readonly resourceId: string;
  readonly name: string;
  readonly type: string;
  readonly generation: number;
  readonly phase: string;
  readonly reason: string | null;
  readonly message: string | null;
}

const columns: Column<EventItem>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'age', value: (e) => age(e.time) },
  { header: 'type', value: (e) => e.type },
  { header: 'resource', value: (e) => `${e.kind}/${e.name}` },
  { header: 'phase', value: (e) => e.phase },
  { header: 'reason', value: (e) => e.reason },
  { header: 'message', value: (e) => e.message },
];

/** One streamed event as a plain line: no padding to align, nothing that changes by itself. */
const line = (e: EventItem) =>
  `${e.id} ${e.time} ${e.type} ${e.kind}/${e.name} ${e.phase} ${cell(e.reason)}: ${cell(e.message)}`;

/** One Server-Sent Events frame. */
interface Frame {
  id?: string;
  event?: string;
  data: string;
}

/** Splits an SSE body into frames as they arrive (comments dropped). */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame: Frame = { data: '' };
      const data: string[] = [];
      for (const l of buffer.slice(0, end).split('\n')) {
        if (l.startsWith(':')) continue;
        const colon = l.indexOf(':');
        const field = colon < 0 ? l : l.slice(0, colon);
        const value = colon < 0 ? '' : l.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') frame.id = value;
        else if (field === 'event') frame.event = value;
        else if (field === 'data') data.push(value);
      }
      buffer = buffer.slice(end + 2);
      frame.data = data.join('\n');
      if (frame.data !== '' || frame.event !== undefined) yield frame;
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Runs `stratus events …`. */
export async function runEvents(ctx: Context): Promise<number> {
  const { options, format, out } = ctx;
  if (ctx.positionals.length > 1) throw usageError(`unexpected argument "${ctx.positionals[1]}"`);
  const kind = options.kind === undefined ? undefined : ctx.kinds.get(options.kind);
  if (options.kind !== undefined && kind === undefined)
    throw usageError(
      `--kind: "${options.kind}" is not one of ${ctx.kinds
        .all()
        .map((k) => k.name)
        .join(', ')}`,
    );
  let resource = options.resource;
  if (resource !== undefined && kind !== undefined) resource = await resolveId(ctx, kind, resource);
  const since = intOption(options.since, '--since', 0);
  const filters = { kind: options.kind, resource };
  if (!options.follow) {
    const page = await ctx
      .client()
      .request<{ items: EventItem[]; nextSince: number; more: boolean }>('GET', '/v1/events', {
        query: { ...filters, since, limit: intOption(options.limit, '--limit') ?? 50 },
      });
    await print(out, format, page, page.items, columns, (e) => `${e.kind}/${e.name}`);
    return 0;
  }
  let cursor = since;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (;;) {
      const res = await ctx.client().stream('/v1/watch', { ...filters, since: cursor }, stop.signal);
      let ended: { reason?: string; message?: string } | undefined;
      try {
        for await (const frame of frames(res.body!)) {
          if (frame.event === 'end') {
            ended = JSON.parse(frame.data) as { reason?: string; message?: string };
            break;
          }
          const event = JSON.parse(frame.data) as EventItem;
          cursor = event.id;
          if (format === 'table') out.write(`${line(event)}\n`);
          else if (format === 'name') out.write(`${event.kind}/${event.name}\n`);
          else if (format === 'json') out.write(`${JSON.stringify(event)}\n`);
          else out.write(`---\n${await serialise(event, 'yaml')}`);
        }
      } catch (err) {
        if (stop.signal.aborted) return 0;
        throw new CliError(`the watch stream broke: ${(err as Error).message}`, EXIT.failure);
      }
      if (stop.signal.aborted) return 0;
      // A closing replica or a dropped slow reader: resume after the last event seen.
      if (ended?.reason === 'ServerClosing' || ended?.reason === 'SlowConsumer') continue;
      throw new CliError(
        `the server ended the watch: ${ended?.reason ?? 'closed'}${ended?.message ? `: ${ended.message}` : ''}`,
        EXIT.failure,
      );
    }
  } catch (err) {
    if (stop.signal.aborted) return 0;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
