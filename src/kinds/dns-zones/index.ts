// dns-zones: a domain whose records the control plane manages.

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { DnsPort, Zone } from '../../core/ports/dns.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';

/** A host name: dot-separated labels of letters, digits and inner hyphens, 253 characters at most. */
export const HOSTNAME_PATTERN =
  '^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$';

/** What a user asks for. */
export const ZoneSpec = Type.Object(
  {
    domain: Type.String({
      pattern: '^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$',
      description: 'lower-case domain of two labels or more, e.g. example.test',
    }),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const ZoneOutputs = Type.Object({ backendId: Type.String() }, { additionalProperties: false });

type Spec = Type.Static<typeof ZoneSpec>;
type Outputs = Type.Static<typeof ZoneOutputs>;

function zoneDriver(port: DnsPort): Driver<Spec, Outputs> {
  const mutation = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<Zone>(r, ctx, {
      get: (id, opts) => port.getZone(id, opts),
      list: (query) => port.listZones(query),
    });
  return {
    async observe(r, ctx) {
      const zone = await find(r, ctx);
      // The domain cannot change (immutable).
      return zone ? { exists: true, upToDate: true, outputs: { backendId: zone.id } } : { exists: false };
    },
    async create(r, ctx) {
      const zone = await port.createZone(
        { domain: r.spec.domain, labels: backendLabels(r.id) },
        mutation(ctx),
      );
      return { backendId: zone.id };
    },
    async update(_r, observed) {
      return observed;
    },
    async delete(_r, observed, ctx) {
      try {
        await port.deleteZone(observed.backendId, mutation(ctx));
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
      }
    },
  };
}

/** The dns-zones kind. */
export const dnsZones = defineKind({
  name: 'dns-zones',
  idPrefix: 'zone',
  spec: ZoneSpec,
  outputs: ZoneOutputs,
  immutable: ['domain'],
  driver: (ports) => zoneDriver(ports.dns),
});
