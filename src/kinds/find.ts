// How every driver finds the backend object of its resource.

import { isNotFoundError } from '../core/errors/backend-errors.js';
import type { DriverContext } from '../core/resources/kind.js';
import type { Resource } from '../core/resources/resource.js';
import { backendLabels } from './labels.js';

/** The two reads a port offers for one kind of backend object. */
export interface BackendReads<T> {
  /** By the backend's id; a not-found error when there is none (absent: the port lists only). */
  readonly get?: (id: string, opts: { readonly signal: AbortSignal }) => Promise<T>;
  /** By labels, at most `limit` items. */
  readonly list: (query: {
    readonly labels: Record<string, string>;
    readonly limit: number;
    readonly signal: AbortSignal;
  }) => Promise<{ readonly items: readonly T[] }>;
}

/**
 * The backend object of `r`: by the id its status recorded, else by the resource's label, which
 * also finds one an earlier pass created and crashed before recording. At generation 1 with
 * nothing recorded the label lookup is skipped: only this generation's job can have created
 * anything, and each of its calls carries the job's key as client token, so a create repeated
 * by a retry replays the first result instead of making a second object.
 */
export async function findBackend<T>(
  r: Resource<unknown, { readonly backendId?: string } | undefined>,
  ctx: DriverContext,
  reads: BackendReads<T>,
): Promise<T | undefined> {
  const known = r.status.outputs?.backendId;
  if (known && reads.get) {
    try {
      return await reads.get(known, { signal: ctx.signal });
    } catch (err) {
      if (!isNotFoundError(err)) throw err;
    }
  }
  if (r.generation === 1 && !known) return undefined;
  const page = await reads.list({ labels: backendLabels(r.id), limit: 1, signal: ctx.signal });
  return page.items[0];
}
