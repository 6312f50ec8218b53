// The drill's watchdog, a process of its own: `watchdog <drill pid> <state file>`. It polls
// the drill every 200 ms; once the drill is gone (a crash, a SIGKILL), it kills every process
// the state file lists that is still the same process (SIGCONT first, so a paused one dies
// too), drops the drill's database unless it was to be kept, and exits. A drill that ends
// normally has emptied the state file first, so the watchdog then finds nothing to do.

import { existsSync } from 'node:fs';
import { withClient } from './pg-client.js';
import { isSameProcess, readState } from './state-file.js';

const POLL_MS = 200;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function sweep(stateFile: string): Promise<void> {
  const state = readState(stateFile);
  if (!state) return;
  for (const p of state.processes) {
    if (!isSameProcess(p)) continue;
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(p.pid, signal);
      } catch {
        // Already gone.
      }
    }
  }
  if (state.database && !state.database.keep) {
    const { adminUrl, name } = state.database;
    try {
      await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    } catch {
      // The database server may be the thing that failed: nothing more a watchdog can do.
    }
  }
}

const [pidArg, stateFile] = process.argv.slice(2);
const drillPid = Number(pidArg);
if (!Number.isInteger(drillPid) || drillPid <= 0 || stateFile === undefined) {
  process.stderr.write('usage: watchdog <drill pid> <state file>\n');
  process.exit(2);
}
// Detached from the drill's terminal: a hang-up of it must not end the watchdog before the drill.
process.on('SIGHUP', () => {});
const timer = setInterval(() => {
  if (alive(drillPid)) return;
  clearInterval(timer);
  void (existsSync(stateFile) ? sweep(stateFile) : Promise.resolve()).finally(() => process.exit(0));
}, POLL_MS);
