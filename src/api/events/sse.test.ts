import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openSse } from './sse.js';

/** A response whose client reads nothing at all: every byte written stays buffered. */
function stuckResponse() {
  const chunks: string[] = [];
  const res = new Writable({
    highWaterMark: 16,
    write(chunk, _encoding, _callback) {
      // Never calls back: the client is not reading.
      chunks.push(String(chunk));
    },
  }) as Writable & { writeHead: () => void; destroyCalls: number };
  res.writeHead = () => {};
  return { res, chunks };
}

/** A response whose client reads everything at once. */
function readingResponse() {
  const chunks: string[] = [];
  const res = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as Writable & { writeHead: () => void };
  res.writeHead = () => {};
  return { res, chunks };
}

describe('an SSE stream', () => {
  it('drops a client that reads nothing once it has more than the bound unread, with an end frame', () => {
    const { res } = stuckResponse();
    let ended = 0;
    const stream = openSse(res as unknown as ServerResponse, {
      heartbeatMs: 60_000,
      maxBufferedBytes: 4096,
      onEnd: () => ended++,
    });
    let sent = 0;
    while (stream.send(sent + 1, 'StatusChanged', { padding: 'x'.repeat(200) })) sent++;
    expect(stream.ended).toBe(true);
    expect(ended).toBe(1);
    // Bounded: the bound plus the frame that crossed it and the end frame, never more.
    expect(res.writableLength).toBeLessThan(4096 + 2 * 400);
    expect(sent).toBeGreaterThan(5);
    // Nothing more is taken after the end.
    expect(stream.send(999, 'StatusChanged', {})).toBe(false);
    res.destroy();
  });

  it('keeps a client that reads, and frames events as id, event and data', () => {
    const { res, chunks } = readingResponse();
    const stream = openSse(res as unknown as ServerResponse, {
      heartbeatMs: 60_000,
      maxBufferedBytes: 4096,
      onEnd: () => {},
    });
    for (let i = 1; i <= 200; i++)
      expect(stream.send(i, 'StatusChanged', { padding: 'x'.repeat(200) })).toBe(true);
    expect(stream.ended).toBe(false);
    expect(chunks).toContain(`id: 7\nevent: StatusChanged\ndata: {"padding":"${'x'.repeat(200)}"}\n\n`);
    stream.end('ServerClosing', 'bye');
    expect(chunks.at(-1)).toBe('event: end\ndata: {"reason":"ServerClosing","message":"bye"}\n\n');
  });
});
