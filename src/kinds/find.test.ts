import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../core/errors/backend-errors.js';
import type { DriverContext } from '../core/resources/kind.js';
import type { Resource } from '../core/resources/resource.js';
import { findBackend } from './find.js';
import { RESOURCE_ID_LABEL } from './labels.js';

interface Thing {
  readonly id: string;
}

const ctx: DriverContext = {
  clientToken: 'reconcile/things/thg_1/1',
  fencingToken: 1,
  signal: new AbortController().signal,
  reference: async () => undefined,
};

function resource(generation: number, backendId?: string): Resource<unknown, { backendId?: string }> {
  return {
    id: 'thg_1',
    kind: 'things',
    tenant: 't',
    name: 'a',
    labels: {},
    spec: {},
    status: {
      phase: 'Provisioning',
      conditions: [],
      observedGeneration: 0,
      ...(backendId ? { outputs: { backendId } } : {}),
    },
    generation,
    resourceVersion: '1',
    createdAt: '',
    updatedAt: '',
    deletionRequestedAt: null,
  };
}

/** A port holding `things`, counting its calls. */
function port(things: Thing[]) {
  const calls: string[] = [];
  return {
    calls,
    reads: {
      get: async (id: string) => {
        calls.push(`get ${id}`);
        const found = things.find((t) => t.id === id);
        if (!found) throw new NotFoundError(id);
        return found;
      },
      list: async (query: { labels: Record<string, string> }) => {
        calls.push(`list ${query.labels[RESOURCE_ID_LABEL]}`);
        return { items: things };
      },
    },
  };
}

describe('findBackend', () => {
  it('reads the recorded id first', async () => {
    const p = port([{ id: 'b1' }]);
    expect(await findBackend(resource(3, 'b1'), ctx, p.reads)).toEqual({ id: 'b1' });
    expect(p.calls).toEqual(['get b1']);
  });

  it('falls back to the label when the recorded id is gone', async () => {
    const p = port([{ id: 'b2' }]);
    expect(await findBackend(resource(1, 'b1'), ctx, p.reads)).toEqual({ id: 'b2' });
    expect(p.calls).toEqual(['get b1', 'list thg_1']);
  });

  it('looks up by label from generation 2 on, when nothing was recorded', async () => {
    // A crash of generation 1 between its create and its status write: generation 2 finds it.
    const p = port([{ id: 'b1' }]);
    expect(await findBackend(resource(2), ctx, p.reads)).toEqual({ id: 'b1' });
    expect(p.calls).toEqual(['list thg_1']);
  });

  it('makes no call at generation 1 with nothing recorded', async () => {
    const p = port([{ id: 'b1' }]);
    expect(await findBackend(resource(1), ctx, p.reads)).toBeUndefined();
    expect(p.calls).toEqual([]);
  });

  it('lists by label when the port has no read by id', async () => {
    const p = port([{ id: 'b1' }]);
    expect(await findBackend(resource(4, 'b1'), ctx, { list: p.reads.list })).toEqual({ id: 'b1' });
    expect(p.calls).toEqual(['list thg_1']);
  });
});
