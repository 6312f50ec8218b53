// The world of a `stratus sim` kept across restarts: everything the five ports hold, the
// client-token results, the fencing tokens and the audit, in one JSON file written to a
// temporary name and renamed, so a crash mid-write leaves the previous file whole. The
// behaviour profile and the fault rules in force are saved too: a drill that restarts the
// simulator finds the cloud misbehaving exactly as it left it.

import { readFile, rename, writeFile } from 'node:fs/promises';
import type { FaultSetState } from './behaviour/faults.js';
import { isProfileError, type Profile, parseProfile } from './behaviour/profile.js';
import type { CloudCoreState } from './cloud/cloud.js';
import type { SimBackends } from './index.js';
import type { ComputeState } from './ports/compute.js';
import type { DatabaseState } from './ports/database.js';
import type { DnsState } from './ports/dns.js';
import type { LoadBalancerState } from './ports/load-balancer.js';
import type { NetworkState } from './ports/network.js';
import type { RunnerState } from './ports/runner.js';
import type { StorageState } from './ports/storage.js';
import type { WebhookState } from './ports/webhook.js';

/** Version of the file format; a file of another version is refused. */
const VERSION = 1;

/** The saved world. */
export interface SimState {
  readonly version: typeof VERSION;
  readonly core: CloudCoreState;
  readonly compute: ComputeState;
  readonly network: NetworkState;
  readonly storage: StorageState;
  readonly dns: DnsState;
  readonly loadBalancer: LoadBalancerState;
  /** Managed databases (absent in a file saved before they existed). */
  readonly database?: DatabaseState;
  /** Webhook deliveries (absent in a file saved before they were kept). */
  readonly webhook?: WebhookState;
  /** Pipeline runs (absent in a file saved before there were any). */
  readonly runner?: RunnerState;
  /** The fault rules in force (absent in a file saved before they were kept). */
  readonly faults?: FaultSetState;
  /** The behaviour profile in force (absent in a file saved before it was kept). */
  readonly profile?: Profile;
}

/** A state file that cannot be read back. */
export class StateFileError extends Error {
  readonly code = 'SIM_STATE_INVALID';
  override readonly name = 'StateFileError';
}

/** The world of `sim` now. */
export function exportState(sim: SimBackends): SimState {
  return {
    version: VERSION,
    core: sim.cloud.exportState(),
    compute: sim.compute.exportState(),
    network: sim.network.exportState(),
    storage: sim.storage.exportState(),
    dns: sim.dns.exportState(),
    loadBalancer: sim.loadBalancer.exportState(),
    database: sim.database.exportState(),
    webhook: sim.webhook.exportState(),
    runner: sim.runner.exportState(),
    faults: sim.cloud.faults.exportState(),
    profile: sim.cloud.profile,
  };
}

/**
 * Replaces the world of `sim` with `state`. The saved profile replaces the one `sim` was
 * built with (it is checked again, like a `PUT /profile`); a file without one keeps it.
 */
export function importState(sim: SimBackends, state: SimState): void {
  let profile: Profile | undefined;
  try {
    profile = state.profile === undefined ? undefined : parseProfile(state.profile);
  } catch (error) {
    if (isProfileError(error)) throw new StateFileError(`saved profile: ${error.message}`, { cause: error });
    throw error;
  }
  sim.cloud.importState(state.core);
  sim.compute.importState(state.compute);
  sim.network.importState(state.network);
  sim.storage.importState(state.storage);
  sim.dns.importState(state.dns);
  sim.loadBalancer.importState(state.loadBalancer);
  if (state.database !== undefined) sim.database.importState(state.database);
  sim.webhook.importState(state.webhook ?? { deliveries: [] });
  sim.runner.importState(state.runner ?? { runs: [] });
  if (state.faults !== undefined) sim.cloud.faults.importState(state.faults);
  if (profile !== undefined) sim.cloud.profile = profile;
}

/** Writes the world of `sim` to `path` (atomically: temporary file, then rename). */
export async function saveState(sim: SimBackends, path: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(exportState(sim)));
  await rename(temporary, path);
}

/** Loads `path` into `sim`; false when there is no file yet (a first start). */
export async function loadState(sim: SimBackends, path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  let state: SimState;
  try {
    state = JSON.parse(text) as SimState;
  } catch (error) {
    throw new StateFileError(`state file ${path} is not JSON`, { cause: error });
  }
  if (state?.version !== VERSION) {
    throw new StateFileError(`state file ${path} has version ${String(state?.version)}, expected ${VERSION}`);
  }
  importState(sim, state);
  return true;
}
