// The checker of the fencing invariants must be able to fail: writes that bypass the fence
// are made on purpose, and each kind of violation is counted, in commit order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/ha/db/database.js';
import { fencedTransaction } from '../../src/ha/leader/fence.js';
import { MemoryElector, MemoryLeadership } from '../../src/ha/leader/memory-elector.js';
import { PgElector } from '../../src/ha/leader/pg-elector.js';
import type { LeaderTerm } from '../../src/ha/leader/port.js';
import { until } from '../helpers/poll.js';
import { checkFencing } from './invariants.js';
import { type LeaderTestDatabase, leaderTestDatabase, testKeys } from './setup.js';

const [key] = testKeys(1);
const insert = (tx: Queryable, epoch: number, n: number) =>
  tx.query('INSERT INTO fenced_writes (key_id, epoch, node, n) VALUES ($1, $2, $3, $4)', [
    key!.id,
    epoch,
    'checker',
    n,
  ]);

describe('fencing invariant checker', () => {
  let env: LeaderTestDatabase;

  beforeAll(async () => {
    env = await leaderTestDatabase();
  });
  afterAll(() => env.dispose());

  it('counts a write that inserted before a bump but committed after it as an overlap, and regressions and unknown epochs', async () => {
    const space = new MemoryLeadership();
    const elector = new MemoryElector('checker', space, env.db);
    const stop = new AbortController();
    const campaign = () => elector.campaign(key!, stop.signal);
    const next = async (term: LeaderTerm) => {
      space.revoke(term.keyId);
      return campaign();
    };
    try {
      const t1 = await campaign();
      await fencedTransaction(env.db, t1, (tx) => insert(tx, t1.epoch, 1));
      expect(await checkFencing(env.db)).toMatchObject({ writes: 1, terms: 1, overlaps: 0, regressions: 0 });

      // An unfenced write of epoch 1 inserts, then epoch 2 is bumped and committed, then the
      // write commits: by insert time it came first, by commit time it overlaps epoch 2.
      let bumped!: () => void;
      const bumpDone = new Promise<void>((r) => {
        bumped = r;
      });
      const late = env.db.transaction(async (tx) => {
        await insert(tx, t1.epoch, 2);
        await bumpDone;
      });
      const t2 = await next(t1);
      bumped();
      await late;
      expect(await checkFencing(env.db)).toMatchObject({ writes: 2, terms: 2, overlaps: 1, regressions: 0 });

      // An accepted write of epoch 2, then another unfenced one of epoch 1: a regression too.
      await fencedTransaction(env.db, t2, (tx) => insert(tx, t2.epoch, 3));
      await insert(env.db, t1.epoch, 4);
      // A write under an epoch no term ever had.
      await insert(env.db, 99, 5);
      const report = await checkFencing(env.db);
      expect(report).toMatchObject({
        writes: 5,
        overlaps: 2,
        regressions: 1,
        unknownEpochs: 1,
        afterLockLost: 0,
      });

      // The fence itself refuses what the unfenced writes got through.
      await expect(fencedTransaction(env.db, t1, (tx) => insert(tx, t1.epoch, 6))).rejects.toMatchObject({
        code: 'STALE_EPOCH',
      });
    } finally {
      await elector.close();
    }
  });

  it('counts a write committed after its term lost its lock session, before any successor bumped', async () => {
    const elector = new PgElector({ connectionString: env.t.url, nodeId: 'checker-pg' });
    try {
      const term = await elector.campaign(key!, new AbortController().signal);
      await fencedTransaction(env.db, term, (tx) => insert(tx, term.epoch, 10));
      const before = await checkFencing(env.db);
      expect(before.afterLockLost).toBe(0);

      // The holder session is ended (its lock frees) and nobody campaigns: no bump, so no
      // overlap can show it; a write that bypasses the fence still commits under the term.
      const lost = new Promise((resolve) => term.signal.addEventListener('abort', resolve, { once: true }));
      const holder = elector.holderPid;
      await env.db.query('SELECT pg_terminate_backend($1)', [holder]);
      await lost;
      // The client can see its session end before the server has released the session's locks:
      // the write below must come once the lock is really gone, as it would after a real loss.
      await until(
        async () =>
          (
            await env.db.query('SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = $2', [
              holder,
              'advisory',
            ])
          ).rowCount === 0,
        10_000,
        "the terminated holder's advisory locks released",
      );
      await insert(env.db, term.epoch, 11);
      const report = await checkFencing(env.db);
      expect(report.afterLockLost).toBe(1);
      expect(report.overlaps).toBe(before.overlaps);
      expect(report.examples).toContainEqual(expect.objectContaining({ node: 'checker', n: 11 }));

      // The fence refuses the same write.
      await expect(fencedTransaction(env.db, term, (tx) => insert(tx, term.epoch, 12))).rejects.toMatchObject(
        {
          code: 'STALE_EPOCH',
          reason: 'lock-lost',
        },
      );
    } finally {
      await elector.close();
    }
  });
});
