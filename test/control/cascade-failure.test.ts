// A cascading delete whose dependent fails to delete for good: the held deletes above it fail
// too, naming the dependent (Ready=False, reason DependentDeleteFailed), instead of staying
// pending for ever; and a new DELETE of a failed delete starts a new one. Three toy kinds
// chained by references (a box on a shelf in a rack) over a backend that refuses, for good, to
// delete the boxes the test marks stuck.

import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors/backend-errors.js';
import { defineKind, type KindDefinition } from '../../src/core/resources/kind.js';
import { KindRegistry } from '../../src/core/resources/registry.js';
import { drivers } from '../helpers/db.js';
import { type ControlHarness, openControlHarness, tenantClient } from './harness.js';

/** The backend: what exists, and the ids whose delete it refuses as invalid (terminal). */
const existing = new Set<string>();
const stuck = new Set<string>();

function toyKind(name: string, idPrefix: string, parent?: string): KindDefinition {
  const Spec = parent
    ? Type.Object({ parent: Type.String() }, { additionalProperties: false })
    : Type.Object({}, { additionalProperties: false });
  return defineKind({
    name,
    idPrefix,
    spec: Spec,
    outputs: Type.Object({}),
    ...(parent ? { references: [{ field: 'parent', kind: parent }] } : {}),
    driver: () => ({
      observe: async (r) =>
        existing.has(r.id) ? { exists: true, upToDate: true, outputs: {} } : { exists: false },
      create: async (r) => {
        existing.add(r.id);
        return {};
      },
      update: async () => ({}),
      delete: async (r) => {
        if (stuck.has(r.id)) throw new InvalidInputError(`${r.id} is bolted down`);
        existing.delete(r.id);
      },
    }),
  });
}

describe.each(drivers)('a cascade whose dependent fails to delete on %s', (driver) => {
  let h: ControlHarness;
  const api = tenantClient(() => h);
  beforeAll(async () => {
    h = await openControlHarness(driver, {
      kinds: new KindRegistry([
        toyKind('racks', 'rck'),
        toyKind('shelves', 'shf', 'racks'),
        toyKind('boxes', 'box', 'shelves'),
      ]),
      maxAttempts: 2,
    });
    h.startWorker();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const make = async (kind: string, name: string, parent?: string) => {
    const res = await api.send('POST', `/v1/${kind}`, { name, spec: parent ? { parent } : {} });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await api.settle(res.body.operation.id);
    return res.body.resource.id as string;
  };

  it('fails the held deletes up the chain, each naming its dependent; a new delete starts over and succeeds', async () => {
    const rack = await make('racks', 'r1');
    const shelf = await make('shelves', 's1', rack);
    const box = await make('boxes', 'b1', shelf);
    const loose = await make('boxes', 'b2', shelf);
    stuck.add(box);

    const first = await api.send('DELETE', `/v1/racks/${rack}?cascade=true`);
    expect(first.status).toBe(202);
    // The rack's and the shelf's deletes were held; both end failed, naming the one below.
    const rackOp = await api.settle(first.body.operation.id, 'failed');
    expect(rackOp.error).toEqual({
      reason: 'DependentDeleteFailed',
      message: expect.stringContaining(shelf),
    });
    const shelfNow = (await api.send('GET', `/v1/shelves/${shelf}`)).body;
    expect(shelfNow.status.phase).toBe('Failed');
    expect(shelfNow.status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'DependentDeleteFailed',
        message: expect.stringContaining(box),
      }),
    );
    const rackNow = (await api.send('GET', `/v1/racks/${rack}`)).body;
    expect(rackNow.status.conditions).toContainEqual(
      expect.objectContaining({ reason: 'DependentDeleteFailed', observedGeneration: rackNow.generation }),
    );
    // The dependent failed with its own reason; the loose box went as asked.
    const boxNow = (await api.send('GET', `/v1/boxes/${box}`)).body;
    expect(boxNow.status).toMatchObject({ phase: 'Failed' });
    expect(boxNow.status.conditions).toContainEqual(expect.objectContaining({ reason: 'InvalidInput' }));
    expect((await api.send('GET', `/v1/boxes/${loose}`)).status).toBe(404);
    // Nothing of the cascade is left pending.
    const open = await h.db.query(
      `SELECT count(*)::int AS n FROM stratus_operations WHERE state IN ('pending', 'running')`,
    );
    expect(open.rows[0]!.n).toBe(0);

    // The backend lets go; the same delete asked again starts a new operation, which succeeds.
    stuck.delete(box);
    const again = await api.send('DELETE', `/v1/racks/${rack}?cascade=true`);
    expect(again.status).toBe(202);
    expect(again.body.operation.id).not.toBe(first.body.operation.id);
    expect(again.body.operation.state).toBe('pending');
    await api.settle(again.body.operation.id, 'succeeded');
    for (const [kind, id] of [
      ['racks', rack],
      ['shelves', shelf],
      ['boxes', box],
    ] as const)
      expect((await api.send('GET', `/v1/${kind}/${id}`)).status, id).toBe(404);
    expect(existing.has(box) || existing.has(shelf) || existing.has(rack)).toBe(false);
  }, 60_000);

  it('a plain delete after a failed one starts a new delete; a repeat while it runs answers with it', async () => {
    const rack = await make('racks', 'r2');
    stuck.add(rack);
    const first = await api.send('DELETE', `/v1/racks/${rack}`);
    await api.settle(first.body.operation.id, 'failed');
    stuck.delete(rack);
    const again = await api.send('DELETE', `/v1/racks/${rack}`);
    expect(again.status).toBe(202);
    expect(again.body.operation.id).not.toBe(first.body.operation.id);
    expect(again.body.resource.generation).toBe(first.body.resource.generation + 1);
    const repeat = await api.send('DELETE', `/v1/racks/${rack}`);
    if (repeat.status === 202) expect(repeat.body.operation.id).toBe(again.body.operation.id);
    else expect(repeat.status).toBe(404);
    await api.settle(again.body.operation.id, 'succeeded');
    expect((await api.send('GET', `/v1/racks/${rack}`)).status).toBe(404);
  }, 60_000);
});
