// A `stratus sim` child process serving as the cloud of the replicas a test starts, with its
// admin routes, so that a test can make the backend misbehave (fault rules, docs/simulator.md).

import { spawnStratus } from './stratus-process.js';

/** A running `stratus sim`; killAllStratus() stops it with the other children. */
export interface SimCloud {
  /** Its base URL: the replicas' `CLOUD_URL`. */
  readonly url: string;
  /** Adds one fault rule or a list of them (`POST /faults`); throws unless the sim took them. */
  addFaults(rules: unknown): Promise<void>;
}

const ADMIN_TOKEN = 'test-sim-admin-token';

/** Starts `stratus sim` on a free port with the `fast` profile, the in-process cloud's. */
export async function startSim(): Promise<SimCloud> {
  const sim = spawnStratus(['sim', '--port', '0', '--profile', 'fast', '--admin-token', ADMIN_TOKEN]);
  const url = String((await sim.waitForLog((r) => typeof r.url === 'string', 60_000)).url);
  return {
    url,
    async addFaults(rules) {
      const res = await fetch(new URL('/faults', url), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(rules),
      });
      if (res.status !== 201)
        throw new Error(`the sim refused the fault rules: ${res.status} ${await res.text()}`);
    },
  };
}
