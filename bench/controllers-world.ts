// The world of bench:controllers, built in bulk: the backend objects through the simulator's own
// ports (what the reconcile passes would have created), then one INSERT per kind of the rows the
// store would hold once every create had succeeded — resource at generation 1, status Ready with
// the driver's outputs, its succeeded operation — so that the triggers write their events and
// usage lifetimes as for any create. Seeding 11,500 resources through the API would take minutes.

import { reconcileJobKey } from '../src/control/jobs.js';
import type { TargetSpec } from '../src/controllers/lb-sync/controller.js';
import { newId } from '../src/core/resources/ids.js';
import type { Database } from '../src/ha/db/database.js';
import { backendLabels } from '../src/kinds/labels.js';
import type { SimBackends } from '../src/sim/index.js';

/** How big the world is. */
export interface WorldSize {
  readonly tenants: number;
  readonly groups: number;
  readonly instancesPerGroup: number;
  /** At least `groups`: the first `groups` are named by one group each. */
  readonly loadBalancers: number;
}

/** A load balancer as seeded. */
export interface SeededLoadBalancer {
  readonly id: string;
  readonly tenant: string;
  readonly backendId: string;
}

/** An autoscaling group as seeded, with its instances. */
export interface SeededGroup {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly loadBalancer: SeededLoadBalancer;
  readonly instances: readonly string[];
}

/** What {@link seedWorld} made. */
export interface World {
  readonly groups: readonly SeededGroup[];
  readonly loadBalancers: readonly SeededLoadBalancer[];
  /** Rows of stratus_resources, every kind. */
  readonly resources: number;
}

/** The group's spec: a policy whose target the seeded CPU meets, so no scaling is due. */
export const GROUP_SIZING = { minSize: 10, maxSize: 40, targetCpuPercent: 50, cpu: 0.5 } as const;
/** The port every group's load balancer forwards to. */
export const TARGET_PORT = 8080;
const IMAGE = 'ubuntu-24.04';
const SIZE = 'small';

interface Row {
  id: string;
  tenant: string;
  kind: string;
  name: string;
  spec: unknown;
  outputs: unknown;
  ref_ids: string[];
  owner_id: string | null;
  op_id: string;
  job_key: string;
}

const INSERT = `
WITH rows AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS r(id text, tenant text, kind text, name text, spec jsonb, outputs jsonb, ref_ids text[],
         owner_id text, op_id text, job_key text)
), resources AS (
  INSERT INTO stratus_resources (id, tenant, kind, name, labels, spec, status, generation, resource_version, ref_ids, owner_id)
  SELECT id, tenant, kind, name, '{}'::jsonb, spec,
         jsonb_build_object(
           'phase', 'Ready',
           'conditions', jsonb_build_array(jsonb_build_object(
             'type', 'Ready', 'status', 'True', 'reason', 'Available',
             'message', 'generation 1 applied', 'observedGeneration', 1,
             'lastTransitionTime', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
           'observedGeneration', 1,
           'outputs', outputs),
         1, nextval('stratus_resource_version_seq'), ref_ids, owner_id
  FROM rows ORDER BY id
  RETURNING id
)
INSERT INTO stratus_operations (id, tenant, kind, resource_id, verb, generation, job_key, state, finished_at)
SELECT op_id, tenant, kind, id, 'create', 1, job_key, 'succeeded', now() FROM rows`;

function row(
  kind: string,
  prefix: string,
  tenant: string,
  name: string,
  spec: unknown,
  outputs: unknown,
  refs: string[],
  owner?: string,
  id = newId(prefix),
): Row {
  return {
    id,
    tenant,
    kind,
    name,
    spec,
    outputs,
    ref_ids: refs,
    owner_id: owner ?? null,
    op_id: newId('op'),
    job_key: reconcileJobKey({ kind, id, generation: 1 }),
  };
}

/** Inserts rows in chunks (one statement, one transaction each). */
async function insertRows(db: Database, rows: readonly Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2_500)
    await db.query(INSERT, [JSON.stringify(rows.slice(i, i + 2_500))]);
}

/**
 * Seeds `size` into the database (migrated, empty) and the simulated cloud: per tenant one
 * network, its share of the load balancers and of the groups; every group of
 * `instancesPerGroup` running instances at `GROUP_SIZING.cpu`, addressed on the network, and
 * its load balancer's targets exactly what lb-sync wants (the instances by id, on
 * `TARGET_PORT`, weight 1), in the spec, the status and the backend alike.
 */
export async function seedWorld(db: Database, sim: SimBackends, size: WorldSize): Promise<World> {
  if (size.loadBalancers < size.groups) throw new RangeError('every group needs a load balancer');
  const seed = (id: string, what = 'create') => ({ clientToken: `seed/${id}/${what}` });
  const rows: Row[] = [];
  const groups: SeededGroup[] = [];
  const loadBalancers: SeededLoadBalancer[] = [];
  for (let t = 0; t < size.tenants; t++) {
    const tenant = `t${String(t).padStart(2, '0')}`;
    const network = newId('net');
    const cidr = `10.${t}.0.0/16`;
    const net = await sim.network.createNetwork(
      { name: network, cidr, labels: backendLabels(network) },
      seed(network),
    );
    rows.push(row('networks', 'net', tenant, 'net', { cidr }, { backendId: net.id }, [], undefined, network));
    const share = (n: number) => Math.floor(n / size.tenants) + (t < n % size.tenants ? 1 : 0);
    const tenantGroups = share(size.groups);
    const tenantLbs = share(size.loadBalancers);
    for (let l = 0; l < tenantLbs; l++) {
      const lbId = newId('lb');
      const listeners = [{ port: 80, protocol: 'http' as const }];
      const lb = await sim.loadBalancer.createLoadBalancer(
        { name: lbId, listeners, labels: backendLabels(lbId) },
        seed(lbId),
      );
      const seeded = { id: lbId, tenant, backendId: lb.id };
      loadBalancers.push(seeded);
      const targets: { spec: TargetSpec; address: string; backendId: string }[] = [];
      if (l < tenantGroups) {
        const groupId = newId('asg');
        const name = `web-${l}`;
        const instances: string[] = [];
        for (let slot = 0; slot < size.instancesPerGroup; slot++) {
          const id = newId('inst');
          const instance = await sim.compute.createInstance(
            { name: id, image: IMAGE, size: SIZE, labels: backendLabels(id) },
            seed(id),
          );
          await sim.network.attach({ networkId: net.id, instanceId: instance.id }, seed(id, 'attach'));
          const { address } = await sim.network.allocateIp(net.id, seed(id, 'address'));
          sim.compute.setLoad(instance.id, { cpu: GROUP_SIZING.cpu });
          rows.push(
            row(
              'instances',
              'inst',
              tenant,
              `${name}-${slot}`,
              { image: IMAGE, size: SIZE, network },
              {
                backendId: instance.id,
                powerState: 'running',
                networkBackendId: net.id,
                address,
                rebootCount: 0,
              },
              [network, groupId],
              groupId,
              id,
            ),
          );
          instances.push(id);
          targets.push({
            spec: { instance: id, port: TARGET_PORT, weight: 1 },
            address,
            backendId: instance.id,
          });
        }
        // lb-sync's order: by instance id.
        targets.sort((a, b) => (a.spec.instance < b.spec.instance ? -1 : 1));
        rows.push(
          row(
            'autoscaling-groups',
            'asg',
            tenant,
            name,
            {
              template: { image: IMAGE, instanceType: SIZE, network },
              minSize: GROUP_SIZING.minSize,
              maxSize: GROUP_SIZING.maxSize,
              desired: size.instancesPerGroup,
              loadBalancer: { id: lbId, port: TARGET_PORT },
              policy: { targetCpuPercent: GROUP_SIZING.targetCpuPercent, cooldownSeconds: 300 },
            },
            {},
            [network, lbId],
            undefined,
            groupId,
          ),
        );
        groups.push({ id: groupId, tenant, name, loadBalancer: seeded, instances });
      }
      const updated = await sim.loadBalancer.updateTargets(
        lb.id,
        targets.map((t) => ({
          address: t.address,
          port: TARGET_PORT,
          weight: 1,
          instanceId: t.backendId,
        })),
        seed(lbId, 'targets'),
      );
      rows.push(
        row(
          'load-balancers',
          'lb',
          tenant,
          `lb-${l}`,
          {
            network,
            listeners,
            algorithm: 'round-robin',
            healthCheck: { intervalSeconds: 5, healthyThreshold: 1, unhealthyThreshold: 1 },
            targets: targets.map((t) => t.spec),
          },
          {
            backendId: lb.id,
            revision: updated.revision,
            targets: targets.map((t) => ({ ...t.spec, address: t.address, healthy: true })),
          },
          [network, ...targets.map((t) => t.spec.instance)],
          undefined,
          lbId,
        ),
      );
    }
  }
  // Referenced rows first, as they were created: networks, load balancers, groups, instances.
  const order = ['networks', 'load-balancers', 'autoscaling-groups', 'instances'];
  rows.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  await insertRows(db, rows);
  await db.query('ANALYZE');
  return { groups, loadBalancers, resources: rows.length };
}
