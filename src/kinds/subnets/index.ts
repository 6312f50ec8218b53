// subnets: a part of a network's range. The control plane keeps the ranges apart (inside the
// network's, no two of one network overlapping); the network backend hands out the addresses.

import Type from 'typebox';
import { type Driver, defineKind } from '../../core/resources/kind.js';
import { CIDR_PATTERN, checkCidr, contains, firstOverlap, rangeOf } from '../networks/cidr.js';
import { referencedOutput } from '../ready.js';

/** What a user asks for. */
export const SubnetSpec = Type.Object(
  {
    network: Type.String({ description: 'id of one of your networks' }),
    cidr: Type.String({ pattern: CIDR_PATTERN, description: "IPv4 range inside the network's, /16 to /28" }),
  },
  { additionalProperties: false },
);

/** What the reconciler reports. */
export const SubnetOutputs = Type.Object(
  { networkBackendId: Type.String(), cidr: Type.String() },
  { additionalProperties: false },
);

type Spec = Type.Static<typeof SubnetSpec>;
type Outputs = Type.Static<typeof SubnetOutputs>;

/**
 * The network port takes a network's subnets when the network is created and has no call to
 * add one later, so a subnet is the control plane's: ready once its network is.
 */
function subnetDriver(): Driver<Spec, Outputs> {
  return {
    async observe(r) {
      // Nothing of a subnet lives in the backend, so once its deletion is asked there is
      // nothing left to remove: its outputs stay on the row until the row goes, and reading
      // them as "still there" would fail every delete.
      const outputs = r.status.outputs;
      if (r.deletionRequestedAt || !outputs?.networkBackendId) return { exists: false };
      return { exists: true, upToDate: true, outputs };
    },
    async create(r, ctx) {
      return { networkBackendId: await referencedOutput(ctx, 'network', 'backendId'), cidr: r.spec.cidr };
    },
    async update(_r, observed) {
      return observed;
    },
    async delete() {},
  };
}

/** The subnets kind. */
export const subnets = defineKind({
  name: 'subnets',
  idPrefix: 'snet',
  spec: SubnetSpec,
  outputs: SubnetOutputs,
  references: [{ field: 'network', kind: 'networks' }],
  immutable: ['network', 'cidr'],
  validate: (spec) => checkCidr(spec.cidr, '/spec/cidr'),
  // Inside the network's range and apart from its other subnets (one being deleted included).
  admit: async (spec, ctx) => {
    const network = await ctx.reference('network');
    const outer = network?.spec.cidr;
    if (typeof outer === 'string' && !contains(rangeOf(outer), rangeOf(spec.cidr)))
      return [{ path: '/spec/cidr', message: `is not inside ${outer} of networks/${network!.name}` }];
    const siblings = (await ctx.others()).filter((s) => s.spec.network === spec.network);
    const clash = firstOverlap(spec.cidr, siblings);
    return clash
      ? [
          {
            path: '/spec/cidr',
            message: `overlaps ${clash.spec.cidr} of subnets/${clash.name} (${clash.id})`,
          },
        ]
      : [];
  },
  driver: () => subnetDriver(),
});
