// networks: an IPv4 address range instances attach to.

import Type from 'typebox';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { Network, NetworkPort } from '../../core/ports/network.js';
import { type Driver, type DriverContext, defineKind } from '../../core/resources/kind.js';
import type { Resource } from '../../core/resources/resource.js';
import { findBackend } from '../find.js';
import { backendLabels } from '../labels.js';
import { CIDR_PATTERN, checkCidr, firstOverlap } from './cidr.js';

/** What a user asks for. */
export const NetworkSpec = Type.Object(
  { cidr: Type.String({ pattern: CIDR_PATTERN, description: 'IPv4 range, /16 to /28, e.g. 10.0.0.0/24' }) },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const NetworkOutputs = Type.Object({ backendId: Type.String() }, { additionalProperties: false });

type Spec = Type.Static<typeof NetworkSpec>;
type Outputs = Type.Static<typeof NetworkOutputs>;

function networkDriver(port: NetworkPort): Driver<Spec, Outputs> {
  const mutation = (ctx: DriverContext) => ({
    clientToken: ctx.clientToken,
    fencingToken: ctx.fencingToken,
    signal: ctx.signal,
  });
  const find = (r: Resource<Spec, Outputs>, ctx: DriverContext) =>
    findBackend<Network>(r, ctx, {
      get: (id, opts) => port.getNetwork(id, opts),
      list: (query) => port.listNetworks(query),
    });
  return {
    async observe(r, ctx) {
      const network = await find(r, ctx);
      // The CIDR cannot change (immutable), so an existing network is always up to date.
      return network
        ? { exists: true, upToDate: true, outputs: { backendId: network.id } }
        : { exists: false };
    },
    async create(r, ctx) {
      const network = await port.createNetwork(
        { name: r.id, cidr: r.spec.cidr, labels: backendLabels(r.id) },
        mutation(ctx),
      );
      return { backendId: network.id };
    },
    async update(_r, observed) {
      return observed;
    },
    async delete(_r, observed, ctx) {
      try {
        await port.deleteNetwork(observed.backendId, mutation(ctx));
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
      }
    },
  };
}

/** The networks kind. */
export const networks = defineKind({
  name: 'networks',
  idPrefix: 'net',
  spec: NetworkSpec,
  outputs: NetworkOutputs,
  immutable: ['cidr'],
  validate: (spec) => checkCidr(spec.cidr, '/spec/cidr'),
  // No two networks of a tenant overlap (one being deleted still holds its range).
  admit: async (spec, ctx) => {
    const clash = firstOverlap(spec.cidr, await ctx.others());
    return clash
      ? [
          {
            path: '/spec/cidr',
            message: `overlaps ${clash.spec.cidr} of networks/${clash.name} (${clash.id})`,
          },
        ]
      : [];
  },
  driver: (ports) => networkDriver(ports.network),
});
