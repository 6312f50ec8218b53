// The open-loop scheduler: request i starts at t0 + i / rate on the clock, whether or not the
// earlier ones have answered (a closed loop would slow down exactly when the cluster does, and
// hide the outage it should measure). In-flight requests are bounded: a request due while the
// bound is reached is not sent and counted as shed, so an outage cannot grow the client
// without limit.

import type { LoadClient } from './client.js';
import type { LoadMix } from './mix.js';

/** What one run of the load did. */
export interface LoadStats {
  readonly sent: number;
  readonly shed: number;
  readonly ok: number;
  readonly failed: number;
}

export interface OpenLoopOptions {
  readonly ratePerS: number;
  readonly durationMs: number;
  readonly maxInFlight: number;
  /** A progress line every 10 s. */
  readonly progress?: (line: string) => void;
  /** Stops sending (what is in flight still ends). */
  readonly signal?: AbortSignal;
}

/** Runs the load for its duration, then waits for every request in flight to end. */
export async function runOpenLoop(client: LoadClient, mix: LoadMix, o: OpenLoopOptions): Promise<LoadStats> {
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let shed = 0;
  let ok = 0;
  let failed = 0;
  let lastProgress = started;
  const total = Math.floor((o.durationMs / 1000) * o.ratePerS);
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / o.ratePerS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (o.signal?.aborted) break;
    if (inFlight.size >= o.maxInFlight) {
      shed++;
      continue;
    }
    const { request, onAnswer } = mix.next();
    sent++;
    const p = client.send(request).then((answer) => {
      if (answer.ok) ok++;
      else failed++;
      onAnswer(answer.ok, answer.status, answer.body);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now();
      o.progress?.(
        `load ${Math.round((Date.now() - started) / 1000)}s: ${sent} sent, ${ok} ok, ${failed} failed, ${inFlight.size} in flight, ${shed} shed, ${mix.liveCount} live`,
      );
    }
  }
  await Promise.all(inFlight);
  return { sent, shed, ok, failed };
}
