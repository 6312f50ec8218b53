// The driver of a composite kind: nothing of it lives in a backend (its children are resources
// of their own, converged by its controller), so a reconcile pass records the spec as applied
// and keeps the outputs the controller reported — those in the row when its status is written.

import type { Driver } from '../core/resources/kind.js';

/** A driver that touches no backend and keeps the resource's outputs as they are. */
export function compositeDriver<Spec, Outputs extends object>(): Driver<Spec, Outputs> {
  return {
    async observe(r) {
      if (r.deletionRequestedAt) return { exists: false };
      return { exists: true, upToDate: true, outputs: (r.status.outputs ?? {}) as Outputs };
    },
    async create(r) {
      return (r.status.outputs ?? {}) as Outputs;
    },
    async update(_r, observed) {
      return observed;
    },
    async delete() {},
    keepsOutputs: true,
  };
}
