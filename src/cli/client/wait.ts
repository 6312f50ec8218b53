// Following an operation to its end: `--wait` on a mutation and `stratus operations wait`.
// On a terminal, one live line (a spinner, the state, the resource's phase and why, the time
// taken) redrawn in place; elsewhere one plain line each time the state or the reason changes,
// with nothing in it that changes by itself (no clock), so logs and diffs stay stable.

import type { Resource } from '../../core/resources/resource.js';
import { CliError, EXIT } from './errors.js';
import type { ApiClient } from './http.js';

/** An operation as `GET /v1/operations/:id` shows it. */
export interface OperationView {
  readonly id: string;
  readonly kind: string;
  readonly resourceId: string;
  readonly verb: string;
  readonly action: string | null;
  readonly generation: number;
  readonly state: 'pending' | 'running' | 'succeeded' | 'failed' | 'superseded';
  readonly error: { readonly reason: string; readonly message: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  readonly resource: Resource | null;
}

export const isTerminal = (state: OperationView['state']) =>
  state === 'succeeded' || state === 'failed' || state === 'superseded';

/** The resource's phase and its Ready condition's reason and message, in one phrase. */
export function statusPhrase(resource: Resource | null): string {
  if (resource === null) return 'gone';
  const ready = resource.status.conditions.find((c) => c.type === 'Ready');
  const why = ready && ready.reason !== resource.status.phase ? ` (${ready.reason}: ${ready.message})` : '';
  return `${resource.status.phase}${why}`;
}

/** What a progress line says, without the clock. */
function describe(op: OperationView): string {
  const what = op.action ?? op.verb;
  const subject = `${op.kind}/${op.resource?.name ?? op.resourceId}`;
  const status = isTerminal(op.state) ? '' : `, ${statusPhrase(op.resource)}`;
  return `${what} ${subject}: ${op.state}${status}`;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** How progress is shown. */
export interface ProgressOptions {
  /** Where progress goes; none: silent. */
  readonly out?: NodeJS.WriteStream | undefined;
  /** A live line redrawn in place (stdout is a terminal) instead of plain lines. */
  readonly live: boolean;
  readonly timeoutMs: number;
  /** When to give up (epoch ms): the command's start plus `timeoutMs`. */
  readonly deadline: number;
}

/**
 * Holds until the operation is terminal; returns it when it succeeded, throws a CliError when it
 * failed or was superseded (exit 1) or the time ran out (exit 6).
 */
export async function waitForOperation(
  client: ApiClient,
  id: string,
  options: ProgressOptions,
): Promise<OperationView> {
  const started = Date.now();
  const { deadline } = options;
  const out = options.out;
  let last = '';
  let frame = 0;
  let current: OperationView | undefined;
  const draw = () => {
    if (!out || !current) return;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    out.write(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${describe(current)} [${seconds}s]`);
  };
  // The spinner and the clock move between answers; the answers come once a second at most.
  const ticker = options.live && out ? setInterval(draw, 100) : undefined;
  try {
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const state = current ? describe(current) : `operation ${id}`;
        throw new CliError(
          `timed out after ${(options.timeoutMs / 1000).toFixed(0)}s waiting for ${state} (operation ${id}; follow it with stratus operations wait ${id})`,
          EXIT.timeout,
        );
      }
      // Short holds on a terminal keep the phase fresh; elsewhere only changes are printed.
      const hold = Math.max(1, Math.min(remaining, options.live ? 1000 : 2000));
      current = await client.request<OperationView>('GET', `/v1/operations/${encodeURIComponent(id)}`, {
        query: { wait: `${hold}ms` },
      });
      const line = describe(current);
      if (options.live) draw();
      else if (out && line !== last) out.write(`${line}\n`);
      last = line;
      if (isTerminal(current.state)) break;
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const op = current;
  if (options.live && out) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    out.write(`\r\x1b[2K${op.state === 'succeeded' ? '✓' : '✗'} ${describe(op)} in ${seconds}s\n`);
  }
  if (op.state === 'failed')
    throw new CliError(
      `operation ${op.id} failed: ${op.error ? `${op.error.reason}: ${op.error.message}` : 'no reason given'}`,
      EXIT.failure,
    );
  if (op.state === 'superseded')
    throw new CliError(`operation ${op.id} was superseded by a newer change of the resource`, EXIT.failure);
  return op;
}
