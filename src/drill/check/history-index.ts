// The history grouped by request: its invocation, its attempts and its completion. Every
// guarantee reads the history through this, so a request is assembled once.

import type { Attempt, Completion, HistoryEvent, Invocation } from '../evidence.js';

/** One logical request as the client saw it. */
export interface RequestTrace {
  readonly req: number;
  readonly invocation: Invocation | undefined;
  readonly attempts: Attempt[];
  readonly completion: Completion | undefined;
}

/** The requests of `history`, by `req`, in order of first appearance. */
export function indexHistory(history: readonly HistoryEvent[]): Map<number, RequestTrace> {
  const byReq = new Map<number, { invocation?: Invocation; attempts: Attempt[]; completion?: Completion }>();
  const entry = (req: number) => {
    let e = byReq.get(req);
    if (!e) {
      e = { attempts: [] };
      byReq.set(req, e);
    }
    return e;
  };
  for (const event of history) {
    const e = entry(event.req);
    if (event.type === 'invoke') e.invocation = event;
    else if (event.type === 'attempt') e.attempts.push(event);
    else e.completion = event;
  }
  const out = new Map<number, RequestTrace>();
  for (const [req, e] of byReq) {
    out.set(req, { req, invocation: e.invocation, attempts: e.attempts, completion: e.completion });
  }
  return out;
}
