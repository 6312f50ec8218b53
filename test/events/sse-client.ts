// A reader of a Server-Sent Events stream over a real socket (fetch), frame by frame.

/** One frame: `id:`, `event:` and `data:` lines (comments are counted apart). */
export interface Frame {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
}

/** An open stream: frames as they arrive, comments seen, and whether the server ended it. */
export interface SseClient {
  readonly status: number;
  readonly headers: Headers;
  readonly frames: Frame[];
  readonly comments: string[];
  /** Resolves when the server closed the stream. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  abort(): void;
}

/** Opens `url` with `headers` and reads it in the background. */
export async function openSseClient(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const frames: Frame[] = [];
  const comments: string[] = [];
  let closedFlag = false;
  const read = async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else {
              const i = line.indexOf(':');
              const field = line.slice(0, i);
              if (field === 'id' || field === 'event' || field === 'data')
                frame[field] = line.slice(i + 1).trimStart();
            }
          }
          if (Object.keys(frame).length > 0) frames.push(frame);
        }
      }
    } catch {
      // Aborted by the test.
    } finally {
      closedFlag = true;
    }
  };
  const closed = read();
  return {
    status: res.status,
    headers: res.headers,
    frames,
    comments,
    closed,
    isClosed: () => closedFlag,
    abort: () => controller.abort(),
  };
}
