import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobEnvelope } from '../job/envelope.js';
import { isIllegalTransitionError } from './errors.js';
import {
  type HeldJob,
  type JobState,
  OCCUPIES_KIND_ROOM,
  OCCUPIES_LEASE,
  OCCUPIES_SLOT,
  TRANSITIONS,
} from './held-job.js';
import { JobTable } from './job-table.js';
import type { ResolvedHandler } from './registrations.js';

const STATES = Object.keys(TRANSITIONS) as JobState[];
const KINDS = ['a', 'b'];

const reg = (kind: string): ResolvedHandler => ({
  kind,
  handler: async () => {},
  concurrency: 1,
  leaseMs: 5_000,
  timeoutMs: 60_000,
  maxAttempts: 5,
  backoff: {},
});
const job = (key: string, kind: string): JobEnvelope => ({ v: 1, key, kind, payload: null, enqueuedAt: 0 });

/** The model: each job's state, nothing else; every count is recomputed from it. */
type Model = Map<string, { kind: string; state: JobState }>;

const count = (model: Model, kind: string, states: ReadonlySet<JobState>) =>
  [...model.values()].filter((j) => j.kind === kind && states.has(j.state)).length;

/** Compares every count the table keeps with the same count recomputed from the model. */
function divergence(table: JobTable, model: Model): string | undefined {
  const live = [...model.values()].filter((j) => j.state !== 'done');
  if (table.size !== live.length) return `size ${table.size} != ${live.length}`;
  const completing = live.filter((j) => j.state === 'completing').length;
  if (table.completing !== completing) return `completing ${table.completing} != ${completing}`;
  for (const kind of KINDS) {
    const checks: [string, number, number][] = [
      ['slots', table.slotsInUse(kind), count(model, kind, OCCUPIES_SLOT)],
      ['leases', table.leasesInUse(kind), count(model, kind, OCCUPIES_LEASE)],
      ['room', table.roomInUse(kind), count(model, kind, OCCUPIES_KIND_ROOM)],
    ];
    for (const [what, actual, expected] of checks) {
      if (actual !== expected) return `${kind} ${what} ${actual} != ${expected}`;
    }
  }
  return undefined;
}

type Command =
  | { op: 'admit'; kind: string }
  | { op: 'move'; pick: number; to: JobState }
  | { op: 'takeLeased'; kind: string };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('admit' as const), kind: fc.constantFrom(...KINDS) }),
  fc.record({ op: fc.constant('move' as const), pick: fc.nat(), to: fc.constantFrom(...STATES) }),
  fc.record({ op: fc.constant('takeLeased' as const), kind: fc.constantFrom(...KINDS) }),
);

describe('held job state machine', () => {
  it('allows exactly the transitions of its diagram, and the table counts match a model', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 200 }), (commands) => {
        const table = new JobTable();
        const model: Model = new Map();
        const jobs: HeldJob[] = [];
        /** Per kind, the keys of leased jobs in lease order, as the worker would take them. */
        const leasedQueue = new Map<string, string[]>();
        for (const c of commands) {
          if (c.op === 'admit') {
            const key = `k${jobs.length}`;
            jobs.push(table.admit({ id: key, body: '', deliveries: 1 }, job(key, c.kind), reg(c.kind)));
            model.set(key, { kind: c.kind, state: 'waiting' });
          } else if (c.op === 'move') {
            if (jobs.length === 0) continue;
            const h = jobs[c.pick % jobs.length]!;
            const m = model.get(h.job.key)!;
            const legal = TRANSITIONS[m.state].includes(c.to);
            let thrown: unknown;
            try {
              h.to(c.to);
            } catch (err) {
              thrown = err;
            }
            if (legal) {
              expect(thrown).toBeUndefined();
              m.state = c.to;
              if (c.to === 'leased') leasedQueue.set(m.kind, [...(leasedQueue.get(m.kind) ?? []), h.job.key]);
            } else {
              expect(isIllegalTransitionError(thrown)).toBe(true);
            }
            expect(h.state).toBe(m.state);
          } else {
            // The FIFO hands out each leased job once, oldest lease first, skipping jobs that
            // moved on since.
            const h = table.nextLeased(c.kind);
            const queue = leasedQueue.get(c.kind) ?? [];
            while (queue.length > 0 && model.get(queue[0]!)!.state !== 'leased') queue.shift();
            expect(h?.job.key).toBe(queue.shift());
          }
          expect(divergence(table, model)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('its count check catches a table that drifted from its jobs', () => {
    const table = new JobTable();
    const model: Model = new Map();
    const h = table.admit({ id: 'x', body: '', deliveries: 1 }, job('x', 'a'), reg('a'));
    model.set('x', { kind: 'a', state: 'waiting' });
    h.to('acquiring');
    // Known bad: the model says the job is still waiting, the table moved it.
    expect(divergence(table, model)).toBe('a leases 1 != 0');
  });

  it('refuses to start a job that lost its lease, or to complete one that never ran', () => {
    const table = new JobTable();
    const h = table.admit({ id: 'y', body: '', deliveries: 1 }, job('y', 'a'), reg('a'));
    h.to('acquiring');
    h.to('leased');
    h.to('done'); // its lease was lost before it started
    expect(() => h.to('running')).toThrow('illegal transition done -> running');
    const g = table.admit({ id: 'z', body: '', deliveries: 1 }, job('z', 'a'), reg('a'));
    expect(() => g.to('completing')).toThrow('illegal transition waiting -> completing');
    expect(table.size).toBe(1);
  });
});
