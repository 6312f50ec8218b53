// databases: a managed database cluster, a primary and N replicas in the backend. Failover is
// not the reconciler's: the database-failover controller fences and promotes under its epoch
// (src/controllers/databases). The actions are declarative spec changes the driver carries out:
// `promote` names the wanted primary (a planned switchover between healthy nodes), `snapshot`,
// `restore` and `rotate-credentials` bump what the backend must have done.

import Type from 'typebox';
import { INSTANCE_TYPES } from '../../core/catalogue/instance-types.js';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { DatabaseCluster, DatabasePort } from '../../core/ports/database.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';
import { ENGINE_VERSIONS, offersVersion } from './engines.js';

/** What a user asks for. */
export const DatabaseSpec = Type.Object(
  {
    engine: Type.Union([Type.Literal('postgres'), Type.Literal('mysql')]),
    version: Type.String({
      minLength: 1,
      maxLength: 16,
      description: 'postgres 14, 15, 16, 17; mysql 8.0, 8.4',
    }),
    replicas: Type.Integer({ minimum: 0, maximum: 5, description: 'replicas besides the primary' }),
    instanceType: Type.Union(INSTANCE_TYPES.map((t) => Type.Literal(t.name))),
    primary: Type.Optional(
      Type.String({ maxLength: 128, description: 'the node wanted as primary; set by the promote action' }),
    ),
    snapshots: Type.Optional(
      Type.Integer({ minimum: 0, description: 'snapshots asked for so far; bumped by the snapshot action' }),
    ),
    restoreFrom: Type.Optional(
      Type.String({ maxLength: 128, description: 'the snapshot last asked to restore; set by restore' }),
    ),
    credentialsVersion: Type.Optional(
      Type.Integer({ minimum: 1, description: 'credentials version wanted; bumped by rotate-credentials' }),
    ),
  },
  { additionalProperties: false },
);

const NodeStatus = Type.Object(
  {
    name: Type.String(),
    role: Type.Union([Type.Literal('primary'), Type.Literal('replica'), Type.Literal('fenced')]),
    healthy: Type.Boolean(),
    lagMs: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** What the reconciler (and the replica monitor) report. */
export const DatabaseOutputs = Type.Object(
  {
    backendId: Type.String(),
    primary: Type.Optional(Type.String({ description: 'the node taking writes' })),
    replicas: Type.Array(NodeStatus, { description: 'every node, the primary among them' }),
    lagMs: Type.Number({ minimum: 0, description: 'the largest replication lag of a healthy replica' }),
    snapshots: Type.Array(Type.String(), { description: 'backend ids of the snapshots taken' }),
    restoredFrom: Type.Optional(Type.String()),
    credentialsVersion: Type.Integer({ minimum: 1, description: 'the version in force (never the secret)' }),
  },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof DatabaseSpec>;
type Outputs = Type.Static<typeof DatabaseOutputs>;

/** The outputs of a backend cluster. */
export function databaseOutputs(c: DatabaseCluster): Outputs {
  const primary = c.nodes.find((n) => n.role === 'primary');
  const replicas = c.nodes.map(({ name, role, healthy, lagMs }) => ({ name, role, healthy, lagMs }));
  const lags = c.nodes.filter((n) => n.role === 'replica' && n.healthy).map((n) => n.lagMs);
  return {
    backendId: c.id,
    ...(primary ? { primary: primary.name } : {}),
    replicas,
    lagMs: Math.max(0, ...lags),
    snapshots: c.snapshots.map((s) => s.id),
    ...(c.restoredFrom ? { restoredFrom: c.restoredFrom } : {}),
    credentialsVersion: c.credentialsVersion,
  };
}

/** A planned switchover the spec asks for and the cluster allows (the target healthy, not fenced). */
function switchoverTo(r: Resource<Spec, Outputs>, c: DatabaseCluster): string | undefined {
  const wanted = r.spec.primary;
  if (wanted === undefined) return undefined;
  const target = c.nodes.find((n) => n.name === wanted);
  const current = c.nodes.find((n) => n.role === 'primary');
  if (target?.role !== 'replica' || !target.healthy || !current?.healthy) return undefined;
  return wanted;
}

function pending(r: Resource<Spec, Outputs>, c: DatabaseCluster) {
  return {
    switchover: switchoverTo(r, c),
    snapshots: Math.max(0, (r.spec.snapshots ?? 0) - c.snapshots.length),
    restore: r.spec.restoreFrom !== undefined && r.spec.restoreFrom !== c.restoredFrom,
    rotations: Math.max(0, (r.spec.credentialsVersion ?? 1) - c.credentialsVersion),
  };
}

function databaseDriver(database: DatabasePort): Driver<Spec, Outputs> {
  const mutation = (ctx: DriverContext, what = '') => ({
    clientToken: `${ctx.clientToken}${what}`,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<DatabaseCluster>(r, ctx, {
      get: (id, opts) => database.getDatabase(id, opts),
      list: (query) => database.listDatabases(query),
    });
  const converge = async (r: Resource<Spec, Outputs>, cluster: DatabaseCluster, ctx: DriverContext) => {
    let c = cluster;
    const todo = pending(r, c);
    if (todo.switchover) c = await database.switchover(c.id, todo.switchover, mutation(ctx, '/switchover'));
    for (let i = c.snapshots.length; i < (r.spec.snapshots ?? 0); i++)
      await database.snapshotDatabase(c.id, mutation(ctx, `/snapshot/${i + 1}`));
    if (todo.restore) await database.restoreDatabase(c.id, r.spec.restoreFrom!, mutation(ctx, '/restore'));
    for (let v = c.credentialsVersion + 1; v <= (r.spec.credentialsVersion ?? 1); v++)
      // The new secret is the backend's to hand out; none of it is kept in the resource.
      await database.rotateCredentials(c.id, mutation(ctx, `/rotate/${v}`));
    return databaseOutputs(await database.getDatabase(c.id, { signal: ctx.signal }));
  };
  return {
    async observe(r, ctx) {
      const cluster = await find(r, ctx);
      if (!cluster) return { exists: false };
      const todo = pending(r, cluster);
      const upToDate = !todo.switchover && todo.snapshots === 0 && !todo.restore && todo.rotations === 0;
      return { exists: true, upToDate, outputs: databaseOutputs(cluster) };
    },
    async create(r, ctx) {
      const cluster = await database.createDatabase(
        {
          name: r.id,
          engine: r.spec.engine,
          version: r.spec.version,
          replicas: r.spec.replicas,
          instanceType: r.spec.instanceType,
          labels: backendLabels(r.id),
        },
        mutation(ctx),
      );
      return converge(r, cluster, ctx);
    },
    async update(r, observed, ctx) {
      return converge(r, await database.getDatabase(observed.backendId, { signal: ctx.signal }), ctx);
    },
    async delete(_r, observed, ctx) {
      await database.deleteDatabase(observed.backendId, mutation(ctx)).catch((err: unknown) => {
        if (!isNotFoundError(err)) throw err;
      });
    },
  };
}

/** The databases kind. */
export const databases = defineKind({
  name: 'databases',
  idPrefix: 'db',
  spec: DatabaseSpec,
  outputs: DatabaseOutputs,
  // A change of engine, version or size is a migration this kind does not do (yet); the action
  // fields change only through their actions, which check their preconditions.
  immutable: [
    'engine',
    'version',
    'replicas',
    'instanceType',
    'primary',
    'snapshots',
    'restoreFrom',
    'credentialsVersion',
  ],
  validate: (spec) =>
    offersVersion(spec.engine, spec.version)
      ? []
      : [
          {
            path: '/spec/version',
            message: `${spec.engine} ${spec.version} is not offered: expected one of ${ENGINE_VERSIONS[spec.engine].join(', ')}`,
          },
        ],
  actions: {
    promote: {
      description: 'Make a healthy replica the primary (a planned switchover; failover is automatic)',
      body: Type.Object(
        { replica: Type.String({ minLength: 1, maxLength: 128 }) },
        { additionalProperties: false },
      ),
      apply: (spec, body, r) => {
        const replica = body.replica as string;
        const node = r.status.outputs?.replicas?.find((n) => n.name === replica);
        if (node === undefined)
          return { refused: `${r.id} has no node ${replica}: expected one of its status.outputs.replicas` };
        if (node.role === 'fenced' || !node.healthy)
          return {
            refused: `${replica} is ${node.role === 'fenced' ? 'fenced' : 'down'}: promote a healthy replica`,
          };
        return { spec: { ...spec, primary: replica } };
      },
    },
    snapshot: {
      description: 'Take a snapshot of the data (listed in status.outputs.snapshots)',
      apply: (spec) => ({ spec: { ...spec, snapshots: (spec.snapshots ?? 0) + 1 } }),
    },
    restore: {
      description: 'Restore one of the snapshots of this database (restored already: 200)',
      body: Type.Object(
        { snapshot: Type.String({ minLength: 1, maxLength: 128 }) },
        { additionalProperties: false },
      ),
      apply: (spec, body, r) => {
        const snapshot = body.snapshot as string;
        if (!(r.status.outputs?.snapshots ?? []).includes(snapshot))
          return { refused: `${r.id} has no snapshot ${snapshot}: expected one of status.outputs.snapshots` };
        return { spec: { ...spec, restoreFrom: snapshot } };
      },
    },
    'rotate-credentials': {
      description: 'A new credentials version; the previous one is revoked at once',
      apply: (spec) => ({ spec: { ...spec, credentialsVersion: (spec.credentialsVersion ?? 1) + 1 } }),
    },
  },
  driver: (ports) => databaseDriver(ports.database),
});
