// The run directory's `state.json`: every process a drill has running, with the start time
// the kernel gives it (so a pid reused by another program is never signalled), and the
// database it created. The watchdog reads it when the drill is gone; the drill rewrites it
// (write, then rename) whenever a process starts or ends.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** One process of the drill's. */
export interface TrackedProcess {
  readonly name: string;
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot when it started. */
  readonly startTicks: string;
}

/** What `state.json` holds. */
export interface DrillState {
  readonly drillPid: number;
  readonly processes: readonly TrackedProcess[];
  /** The database the drill created: the admin URL to drop it from, and its name. */
  readonly database?: { readonly adminUrl: string; readonly name: string; readonly keep: boolean };
}

/** The start time of `pid` as the kernel records it; undefined when there is no such process. */
export function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether `p` is still the very process that was tracked. */
export function isSameProcess(p: TrackedProcess): boolean {
  return startTicksOf(p.pid) === p.startTicks;
}

export function writeState(file: string, state: DrillState): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function readState(file: string): DrillState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DrillState;
  } catch {
    return undefined;
  }
}
