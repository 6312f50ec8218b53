// Who leads a key now, as operators see it: GET /v1/system/leaders?key=<key> through HAProxy
// with the operator key. The holder of the open term is a node id, which is a replica's name.

import { setTimeout as delay } from 'node:timers/promises';

interface LeaderView {
  readonly key: string;
  readonly holder: string;
  readonly open: boolean;
}

/** The node id leading `key`, polled until one leads (a successor may be mid-election). */
export async function currentLeader(
  apiUrl: string,
  operatorKey: string,
  key: string,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await fetch(
        new URL(`/v1/system/leaders?key=${encodeURIComponent(key)}&limit=1`, apiUrl),
        {
          headers: { authorization: `Bearer ${operatorKey}`, accept: 'application/json' },
          signal: AbortSignal.timeout(5_000),
        },
      );
      const body = (await response.json()) as { items?: LeaderView[] };
      const open = body.items?.find((l) => l.key === key && l.open);
      if (response.status === 200 && open) return open.holder;
      last = `status ${response.status}, ${body.items?.length ?? 0} leaders`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`nobody leads ${key} within ${timeoutMs} ms (${last})`);
    await delay(200);
  }
}
