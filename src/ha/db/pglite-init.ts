import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** True when `dataDir` holds an initialised PostgreSQL cluster. */
export function isInitialisedDataDir(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

// Run by a short-lived node: opens (so creates) the data directory named by argv[2], closes it.
const INIT_SCRIPT = `
const [pgliteUrl, dir] = process.argv.slice(1);
const { PGlite } = await import(pgliteUrl);
const db = await PGlite.create(dir);
await db.close();
`;

/**
 * Creates an embedded data directory in a short-lived child process when it does not exist yet.
 *
 * Why: PGlite's initdb, run in the process, takes its RSS to ~800 MB and WebAssembly memory is
 * never handed back, even after close (measured on PGlite 0.5.16: 835-852 MB idle after a first
 * start, against ~270-300 MB for a process that opens an existing directory; `initialMemory`
 * changes neither). The child pays that peak and exits; the long-lived process only opens.
 *
 * The cluster is built next to `dataDir` and renamed into place, so a crash during initdb leaves
 * no half-made directory for the next start to trip on. The caller holds the data-dir lock.
 */
export async function initDataDirInChild(dataDir: string, timeoutMs = 120_000): Promise<void> {
  if (isInitialisedDataDir(dataDir)) return;
  const staging = join(dirname(dataDir), `.${basename(dataDir)}.init-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const pgliteUrl = import.meta.resolve('@electric-sql/pglite');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', INIT_SCRIPT, pgliteUrl, staging],
        { timeout: timeoutMs, killSignal: 'SIGKILL' },
        (err, _stdout, stderr) =>
          err
            ? reject(
                new Error(`could not create the embedded database in ${dataDir}: ${stderr || err.message}`),
              )
            : resolve(),
      );
    });
    if (!isInitialisedDataDir(staging)) {
      throw new Error(`could not create the embedded database in ${dataDir}: initdb left no PG_VERSION`);
    }
    rmSync(dataDir, { recursive: true, force: true });
    renameSync(staging, dataDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
