// A worker SIGKILLed between its relay's claim of a job (the outbox row marked dispatched) and
// its queue add, with real processes: the worker's Redis is blackholed through a proxy so that
// its add hangs, and it is killed once its claim shows. The job never reached the queue and
// has no ledger row; the worker started after it (the sweeper's new leader) sends it again
// within seconds of its start, because no session of the dead relay's name is left. Without
// that, it would wait for the sweeper's grace (30 s).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../src/ha/job/envelope.js';
import { OUTBOX_CHANNEL } from '../../src/ha/outbox/outbox.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { REDIS_URL } from '../helpers/services.js';
import { isReady, killAllStratus, spawnStratus } from '../helpers/stratus-process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

interface OutboxRow {
  dispatched_by: string | null;
  dispatch_count: number;
}

describe('a relay killed between its claim and its add (real processes)', () => {
  let t: TestDatabase;
  let db: pg.Client;
  let proxy: TcpProxy;
  const prefix = `orphan-${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    t = await createTestDatabase();
    db = new pg.Client({ connectionString: t.url });
    await db.connect();
    proxy = await startTcpProxy(REDIS_URL);
  });
  afterAll(async () => {
    await killAllStratus();
    await db?.end();
    await proxy?.close();
    await t?.drop();
  });

  const worker = (nodeId: string, redisUrl: string) =>
    spawnStratus(['start', '--role', 'worker', '--port', '0', '--node-id', nodeId], {
      DATABASE_URL: t.url,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
    });
  const row = async (key: string) =>
    (
      await db.query<OutboxRow>(
        'SELECT dispatched_by, dispatch_count FROM stratus_outbox WHERE job_key = $1',
        [key],
      )
    ).rows[0];

  it('is sent again by the next sweeper within seconds, not after the grace', {
    timeout: 180_000,
  }, async () => {
    const a = worker('orphan-a', proxy.urlFor(REDIS_URL));
    await a.waitForLog(isReady, 90_000);
    // Its queue adds hang from now on; its relay still claims in PostgreSQL.
    proxy.blackhole();
    const key = `orphan-test/${randomUUID()}`;
    await db.query('INSERT INTO stratus_outbox (job_key, body) VALUES ($1, $2)', [
      key,
      encodeEnvelope({ key, kind: 'orphan-test' }),
    ]);
    await db.query(`NOTIFY ${OUTBOX_CHANNEL}`);
    await until(async () => (await row(key))?.dispatched_by === 'stratus:orphan-a', 30_000, "a's claim");
    a.child.kill('SIGKILL');
    await a.exited;
    // Nothing on the queue, and the claim still names the dead relay.
    expect(await row(key)).toMatchObject({ dispatched_by: 'stratus:orphan-a', dispatch_count: 1 });

    const b = worker('orphan-b', REDIS_URL);
    await b.waitForLog(isReady, 90_000);
    const readyAt = Date.now();
    await until(async () => (await row(key))?.dispatch_count === 2, 10_000, 'the job sent again');
    const tookMs = Date.now() - readyAt;
    expect(await row(key)).toMatchObject({ dispatched_by: null, dispatch_count: 2 });
    // Its line follows the write it reports (the child's output comes through a pipe).
    await b.waitForLog(
      (l) => l.msg === 'outbox sweeper: re-dispatched jobs of a relay gone before its add',
      10_000,
    );
    // Far inside the 30 s grace a stranded job waits otherwise.
    expect(tookMs).toBeLessThan(10_000);
  });
});
