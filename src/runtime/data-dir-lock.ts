import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process holds the data directory. */
export class DataDirInUseError extends Error {
  readonly code = 'STRATUS_DATA_DIR_IN_USE';
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `the data directory ${dataDir} is in use by another stratus process (pid ${holderPid}); stop that process or start this one with another --data-dir`,
    );
    this.name = 'DataDirInUseError';
  }
}

export function isDataDirInUseError(err: unknown): err is DataDirInUseError {
  return (err as { code?: unknown } | null)?.code === 'STRATUS_DATA_DIR_IN_USE';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the embedded data directory for this process with an exclusive pid file. The
 * embedded database is one in-process session: two processes on one directory would corrupt
 * it, so the second is refused. A pid file left by a dead process is taken over.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string, pid = process.pid): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'stratus.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (Number(readFileSync(path, 'utf8').trim()) === pid) rmSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // Removed between our open and read: try again.
      }
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
        throw new DataDirInUseError(dataDir, holder);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock file ${path}`);
}
