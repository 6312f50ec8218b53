// dns-records: one record set of a zone, its content checked per type. An A record may take
// its address from an instance instead (`instance`): each reconcile of the record writes the
// instance's current address.

import { isIPv4, isIPv6 } from 'node:net';
import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { DnsPort, DnsRecord } from '../../core/ports/dns.js';
import type { FieldError } from '../../core/resources/field-error.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import { HOSTNAME_PATTERN } from '../dns-zones/index.js';
import { referencedOutput } from '../ready.js';

const TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'SRV', 'TXT'] as const;
const hostname = new RegExp(HOSTNAME_PATTERN);
const u16 = Type.Integer({ minimum: 0, maximum: 65_535 });

/** An MX value. */
const MxValue = Type.Object({ priority: u16, host: Type.String() }, { additionalProperties: false });
/** An SRV value. */
const SrvValue = Type.Object(
  { priority: u16, weight: u16, port: u16, target: Type.String() },
  { additionalProperties: false },
);

/** What a user asks for. */
export const RecordSpec = Type.Object(
  {
    zone: Type.String({ description: 'id of one of your dns-zones' }),
    name: Type.String({
      pattern: '^(@|[_a-z0-9]([-_a-z0-9]{0,61}[a-z0-9])?(\\.[_a-z0-9]([-_a-z0-9]{0,61}[a-z0-9])?)*)$',
      maxLength: 253,
      description: 'name inside the zone (`www`, `_sip._tcp`), `@` for the zone itself',
    }),
    type: Type.Union(TYPES.map((t) => Type.Literal(t))),
    ttl: Type.Integer({ minimum: 30, maximum: 604_800 }),
    values: Type.Optional(
      Type.Array(Type.Union([Type.String({ maxLength: 4000 }), MxValue, SrvValue]), {
        minItems: 1,
        maxItems: 64,
        description:
          'A: IPv4 addresses; AAAA: IPv6; CNAME: one host name; TXT: strings of 255 characters at most; MX: {priority, host}; SRV: {priority, weight, port, target}',
      }),
    ),
    instance: Type.Optional(
      Type.String({
        description: 'A only, instead of values: id of one of your instances whose address it holds',
      }),
    ),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const RecordOutputs = Type.Object(
  { zoneBackendId: Type.String(), values: Type.Array(Type.String()) },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof RecordSpec>;
type Outputs = Type.Static<typeof RecordOutputs>;

const isHost = (v: unknown): v is string => typeof v === 'string' && hostname.test(v.replace(/\.$/, ''));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Each value as the type wants it, every failure at its index. */
export function checkRecord(spec: Spec): FieldError[] {
  if (spec.instance !== undefined) {
    const errors: FieldError[] = [];
    if (spec.type !== 'A')
      errors.push({ path: '/spec/instance', message: 'only an A record follows an instance' });
    if (spec.values !== undefined)
      errors.push({ path: '/spec/values', message: 'must be absent with instance' });
    return errors;
  }
  if (spec.values === undefined)
    return [{ path: '/spec/values', message: 'is required (or instance, for an A record)' }];
  if (spec.type === 'CNAME' && spec.values.length > 1)
    return [{ path: '/spec/values', message: 'a CNAME has exactly one value' }];
  const errors: FieldError[] = [];
  spec.values.forEach((value, i) => {
    const path = `/spec/values/${i}`;
    const fail = (message: string) => errors.push({ path, message });
    switch (spec.type) {
      case 'A':
        if (typeof value !== 'string' || !isIPv4(value)) fail('must be an IPv4 address');
        break;
      case 'AAAA':
        if (typeof value !== 'string' || !isIPv6(value)) fail('must be an IPv6 address');
        break;
      case 'CNAME':
        if (!isHost(value)) fail('must be a host name');
        break;
      case 'TXT':
        if (typeof value !== 'string') fail('must be a string');
        else if (Buffer.byteLength(value) > 255) fail('must be 255 bytes at most (split longer text)');
        break;
      case 'MX':
        if (!isObject(value) || !('host' in value)) fail('must be {priority, host}');
        else if (!isHost(value.host)) errors.push({ path: `${path}/host`, message: 'must be a host name' });
        break;
      case 'SRV':
        if (!isObject(value) || !('target' in value)) fail('must be {priority, weight, port, target}');
        else if (!isHost(value.target) && value.target !== '.')
          errors.push({ path: `${path}/target`, message: 'must be a host name' });
        break;
    }
  });
  return errors;
}

/** The wire form of the values: MX `priority host`, SRV `priority weight port target`. */
function render(spec: Spec): string[] {
  return (spec.values ?? []).map((v) => {
    if (typeof v === 'string') return v;
    if ('target' in v) return `${v.priority} ${v.weight} ${v.port} ${v.target}`;
    return `${v.priority} ${v.host}`;
  });
}

function recordDriver(port: DnsPort): Driver<Spec, Outputs> {
  const mutation = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const wanted = async (r: Resource<Spec, Outputs>, ctx: DriverContext): Promise<DnsRecord> => ({
    name: r.spec.name,
    type: r.spec.type,
    ttl: r.spec.ttl,
    values:
      r.spec.instance !== undefined ? [await referencedOutput(ctx, 'instance', 'address')] : render(r.spec),
  });
  const zoneOf = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    r.status.outputs?.zoneBackendId
      ? Promise.resolve(r.status.outputs.zoneBackendId)
      : referencedOutput(ctx, 'zone', 'backendId');
  const upsert = async (r: Resource<Spec, Outputs>, ctx: DriverContext): Promise<Outputs> => {
    const zoneBackendId = await zoneOf(r, ctx);
    const record = await port.upsertRecord(zoneBackendId, await wanted(r, ctx), mutation(ctx));
    return { zoneBackendId, values: [...record.values] };
  };
  return {
    async observe(r, ctx) {
      const zoneBackendId = r.status.outputs?.zoneBackendId;
      if (!zoneBackendId) return { exists: false };
      let found: DnsRecord | undefined;
      try {
        let cursor: string | undefined;
        do {
          const page = await port.listRecords(zoneBackendId, {
            signal: ctx.signal,
            ...(cursor === undefined ? {} : { cursor }),
          });
          found = page.items.find((x) => x.name === r.spec.name && x.type === r.spec.type);
          cursor = page.nextCursor;
        } while (!found && cursor);
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
      }
      if (!found) return { exists: false };
      const outputs = { zoneBackendId, values: [...found.values] };
      if (r.deletionRequestedAt) return { exists: true, upToDate: true, outputs };
      const want = await wanted(r, ctx);
      const upToDate = found.ttl === want.ttl && found.values.join('\n') === want.values.join('\n');
      return { exists: true, upToDate, outputs };
    },
    create: upsert,
    update: (r, _observed, ctx) => upsert(r, ctx),
    async delete(r, observed, ctx) {
      try {
        await port.deleteRecord(
          { zoneId: observed.zoneBackendId, name: r.spec.name, type: r.spec.type },
          mutation(ctx),
        );
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
      }
    },
  };
}

/** The dns-records kind. */
export const dnsRecords = defineKind({
  name: 'dns-records',
  idPrefix: 'rec',
  spec: RecordSpec,
  outputs: RecordOutputs,
  references: [
    { field: 'zone', kind: 'dns-zones' },
    { field: 'instance', kind: 'instances' },
  ],
  immutable: ['zone', 'name', 'type'],
  validate: checkRecord,
  // One record set per (zone, name, type): a second would overwrite the first in the backend.
  admit: async (spec, ctx) => {
    const clash = (await ctx.others()).find(
      (o) => o.spec.zone === spec.zone && o.spec.name === spec.name && o.spec.type === spec.type,
    );
    return clash
      ? [
          {
            path: '/spec/name',
            message: `dns-records/${clash.name} (${clash.id}) is already ${spec.type} ${spec.name}`,
          },
        ]
      : [];
  },
  driver: (ports) => recordDriver(ports.dns),
});
