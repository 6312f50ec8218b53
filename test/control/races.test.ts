// Concurrent changes on real PostgreSQL (PGlite runs one transaction at a time, so it cannot
// race): a create referencing a network against the network's delete, and two PATCHes from
// the same read. Each round must end in exactly one of the allowed outcomes.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ControlHarness, openControlHarness, TENANT_HEADER } from './harness.js';

let h: ControlHarness;
beforeAll(async () => {
  h = await openControlHarness('pg');
});
afterAll(async () => {
  await h?.close();
});

const send = (
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
) =>
  h.app.inject({
    method,
    url,
    headers: { [TENANT_HEADER]: 'race', ...headers },
    ...(payload ? { payload } : {}),
  });

it('an instance created while its network is being deleted: either the instance or the delete wins, never both', async () => {
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 30; round++) {
    const net = (
      await send('POST', '/v1/networks', { name: `race-net-${round}`, spec: { cidr: `10.0.${round}.0/24` } })
    ).json().resource;
    const [created, deleted] = await Promise.all([
      send('POST', '/v1/instances', {
        name: `race-vm-${round}`,
        spec: { image: 'img', size: 'small', network: net.id },
      }),
      send('DELETE', `/v1/networks/${net.id}`),
    ]);
    const outcome = `${created.statusCode}/${deleted.statusCode}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    // 202/409: the instance committed first and the delete saw it; 422/202: the delete committed
    // first and the create saw the deletion.
    expect(['202/409', '422/202'], `round ${round}: ${created.body} / ${deleted.body}`).toContain(outcome);
  }
  const referencingDeleted = await h.db.query(
    `SELECT i.id FROM stratus_resources i JOIN stratus_resources n ON n.id = ANY(i.ref_ids)
     WHERE n.deletion_requested_at IS NOT NULL AND i.deletion_requested_at IS NULL`,
  );
  expect(referencingDeleted.rows).toEqual([]);
});

it('the invariant query above finds an instance on a deleted network when one exists', async () => {
  // The known-bad case for the check of the previous test: forge the state it must catch.
  const net = (
    await send('POST', '/v1/networks', { name: 'forged-net', spec: { cidr: '10.1.0.0/24' } })
  ).json().resource;
  await send('POST', '/v1/instances', {
    name: 'forged-vm',
    spec: { image: 'img', size: 'small', network: net.id },
  });
  await h.db.query('UPDATE stratus_resources SET deletion_requested_at = now() WHERE id = $1', [net.id]);
  const found = await h.db.query(
    `SELECT i.id FROM stratus_resources i JOIN stratus_resources n ON n.id = ANY(i.ref_ids)
     WHERE n.deletion_requested_at IS NOT NULL AND i.deletion_requested_at IS NULL`,
  );
  expect(found.rowCount).toBe(1);
});

it('of ten PATCHes from the same read, exactly one applies; the others are 412', async () => {
  const net = (
    await send('POST', '/v1/networks', { name: 'contended', spec: { cidr: '10.2.0.0/24' } })
  ).json().resource;
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      send(
        'PATCH',
        `/v1/networks/${net.id}`,
        { labels: { writer: String(i) } },
        { 'if-match': `"${net.resourceVersion}"` },
      ),
    ),
  );
  const codes = answers.map((a) => a.statusCode).sort();
  expect(codes).toEqual([200, ...Array(9).fill(412)]);
});
