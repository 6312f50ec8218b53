import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../ha/db/database.js';
import { createEventHorizon } from './horizon.js';

/** A database that answers the horizon's two reads from a script the test moves on. */
function scripted() {
  const state = { high: 0, writers: [] as string[] };
  const q: Queryable = {
    async query(sql) {
      if (sql.includes('stratus_events_id_seq'))
        return { rows: [{ high: state.high }], rowCount: 1 } as never;
      return { rows: [{ writers: [...state.writers] }], rowCount: 1 } as never;
    },
    async exec() {},
  };
  return { q, state };
}

describe('the event horizon', () => {
  it('moves to the last id drawn at once when no writer is running', async () => {
    const { q, state } = scripted();
    const horizon = createEventHorizon();
    state.high = 7;
    expect(await horizon.advance(q)).toBe(7);
    expect(horizon.current()).toBe(7);
  });

  it('waits for every writer that may hold an id up to a mark, however many ids came after', async () => {
    const { q, state } = scripted();
    const horizon = createEventHorizon();
    state.high = 3;
    expect(await horizon.advance(q)).toBe(3);
    // Writer A drew id 4 and runs; B drew 5 and committed; C starts and draws 6.
    state.high = 5;
    state.writers = ['3/10'];
    expect(await horizon.advance(q)).toBe(3);
    state.high = 6;
    state.writers = ['3/10', '4/22'];
    expect(await horizon.advance(q)).toBe(3);
    // C ends, A still runs: nothing up to 6 is final yet (A's 4 may still appear).
    state.writers = ['3/10'];
    expect(await horizon.advance(q)).toBe(3);
    // A ends: everything up to the newest mark is final.
    state.writers = [];
    expect(await horizon.advance(q)).toBe(6);
  });

  it('passes an older mark when its writers are gone though newer writers run', async () => {
    const { q, state } = scripted();
    const horizon = createEventHorizon();
    state.high = 4;
    state.writers = ['3/10'];
    expect(await horizon.advance(q)).toBe(0);
    // A new writer drew 9 after A; A ended.
    state.high = 9;
    state.writers = ['5/1'];
    expect(await horizon.advance(q)).toBe(4);
    state.writers = [];
    expect(await horizon.advance(q)).toBe(9);
  });

  it('never goes back', async () => {
    const { q, state } = scripted();
    const horizon = createEventHorizon();
    state.high = 10;
    expect(await horizon.advance(q)).toBe(10);
    state.high = 8;
    expect(await horizon.advance(q)).toBe(10);
  });
});
