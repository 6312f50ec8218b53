// What HAProxy itself thinks of the api replicas, read from its stats page as CSV on a loopback
// listener (`GET /stats;csv`). A replica that is ready again is not yet serving: HAProxy counts
// it UP only after 2 passing checks (500 ms apart), and until then sends it nothing. The fault
// scheduler asks here, not the replica, whether an api is serving (docs/drill-run.md).

import { setTimeout as delay } from 'node:timers/promises';

/** The backend of the api replicas in the generated configuration. */
export const API_BACKEND = 'apis';

/**
 * The status of each server of `backend` in a stats CSV: `UP`, `DOWN`, `UP 1/2` (up, one
 * check failed), `DOWN 1/2` (down, one check passed), `MAINT`, `no check`.
 */
export function parseServerStates(csv: string, backend = API_BACKEND): Map<string, string> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.replace(/^#\s*/, '').split(',') ?? [];
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const status = header.indexOf('status');
  // `bck` is 1 on the unchecked fallbacks (used only while every checked server is DOWN): they
  // are not replicas of their own, so they are left out.
  const bck = header.indexOf('bck');
  if (px < 0 || sv < 0 || status < 0) throw new Error('not a HAProxy stats CSV (no pxname, svname, status)');
  const out = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    const name = fields[sv];
    if (fields[px] !== backend || name === undefined || name === 'FRONTEND' || name === 'BACKEND') continue;
    if (bck >= 0 && fields[bck] === '1') continue;
    out.set(name, fields[status] ?? '');
  }
  return out;
}

/** Whether a server in `status` receives requests (UP, or UP with a check failing). */
export function isServing(status: string | undefined): boolean {
  return status === 'UP' || (status?.startsWith('UP ') ?? false);
}

/** A handle on HAProxy's stats listener. */
export interface BalancerView {
  /** The status of every api server, by name. */
  serverStates(): Promise<ReadonlyMap<string, string>>;
}

/** Reads the stats page at `statsUrl` (`http://127.0.0.1:<port>/stats`). */
export function haproxyStats(statsUrl: string): BalancerView {
  return {
    async serverStates() {
      const response = await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(5_000) });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`HAProxy stats: ${response.status} ${text.slice(0, 200)}`);
      return parseServerStates(text);
    },
  };
}

/**
 * Polls until `done` holds of the servers' states; resolves with how long that took, or with
 * undefined at `timeoutMs`. A stats page that cannot be read counts as not done.
 */
export async function untilServers(
  view: BalancerView,
  done: (states: ReadonlyMap<string, string>) => boolean,
  timeoutMs: number,
  pollMs = 100,
): Promise<number | undefined> {
  const started = Date.now();
  for (;;) {
    try {
      if (done(await view.serverStates())) return Date.now() - started;
    } catch {
      // HAProxy busy or restarting: ask again.
    }
    if (Date.now() - started >= timeoutMs) return undefined;
    await delay(pollMs);
  }
}
