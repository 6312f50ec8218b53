// One Server-Sent Events stream over a raw response: `id:`/`event:`/`data:` frames, heartbeat
// comments so that proxies keep an idle stream open, and a bound on what a slow client may leave
// unread: past it the stream ends with an `end` frame (reason SlowConsumer) and the client
// resumes with Last-Event-ID, instead of the server buffering without bound.

import type { ServerResponse } from 'node:http';

/** How long a dropped slow client has to read its end frame before its socket is destroyed. */
const SLOW_CLIENT_GRACE_MS = 2000;

/** Why a stream ended, as its last frame says. */
export type EndReason = 'ServerClosing' | 'SlowConsumer' | 'Gone' | 'ReadFailed';

/** Options of {@link openSse}. */
export interface SseOptions {
  /** Between two heartbeat comments. */
  readonly heartbeatMs: number;
  /** Bytes a client may leave unread before it is dropped. */
  readonly maxBufferedBytes: number;
  /** Called once when the stream ends, whoever ended it. */
  readonly onEnd: () => void;
}

/** An open stream. */
export interface SseStream {
  /** Sends one frame; false when the stream has ended (or just ended for being too slow). */
  send(id: number, event: string, data: unknown): boolean;
  /** Resolves when the client has read what was sent (or the stream ended). */
  drained(): Promise<void>;
  /** Sends an `end` frame with the reason and closes the stream. Idempotent. */
  end(reason: EndReason, message: string): void;
  readonly ended: boolean;
}

/** Writes the headers and the first comment, and returns the stream. */
export function openSse(res: ServerResponse, options: SseOptions): SseStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // The socket goes with the stream: a closing server must not wait on it as a keep-alive.
    connection: 'close',
    'x-accel-buffering': 'no',
  });
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    options.onEnd();
  };
  const heartbeat = setInterval(() => {
    if (!ended) res.write(': heartbeat\n\n');
  }, options.heartbeatMs);
  res.on('close', finish);
  res.write(': stream open\nretry: 1000\n\n');
  // A client gone before the stream opened fired its 'close' already.
  if (res.destroyed) queueMicrotask(finish);

  const stream: SseStream = {
    get ended() {
      return ended;
    },
    send(id, event, data) {
      if (ended) return false;
      res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (res.writableLength > options.maxBufferedBytes) {
        stream.end(
          'SlowConsumer',
          `more than ${options.maxBufferedBytes} bytes unread: resume with Last-Event-ID`,
        );
        return false;
      }
      return true;
    },
    drained() {
      if (ended || !res.writableNeedDrain) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    end(reason, message) {
      if (ended) return;
      res.write(`event: end\ndata: ${JSON.stringify({ reason, message })}\n\n`);
      finish();
      res.end();
      // A client that reads nothing would keep the socket (and its buffer) for ever: it gets a
      // moment to read the end frame, then the socket goes.
      if (reason === 'SlowConsumer') setTimeout(() => res.destroy(), SLOW_CLIENT_GRACE_MS).unref();
    },
  };
  return stream;
}
