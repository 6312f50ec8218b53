// The in-process cloud under its first name: the simulated cloud of `src/sim`, fast profile.

import {
  createSimBackends,
  type SimBackends,
  type SimCloudOptions,
  type SimComputeOptions,
} from '../../sim/index.js';

/** Builds an in-process simulated cloud; see {@link createSimBackends}. */
export function createMemoryBackends(options: SimCloudOptions & SimComputeOptions = {}): SimBackends {
  return createSimBackends(options);
}
