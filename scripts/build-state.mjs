// Whether dist/ holds a build of the current sources: the build writes dist/.build-stamp as its
// last step, and the build is stale when any compiled source or compiler setting is newer. The
// console (src/console, built by Vite into dist/console) has a stamp of its own, so that its
// test can rebuild it alone.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const STAMP = join(root, 'dist', '.build-stamp');

/** The console's Vite configuration. */
export const CONSOLE_CONFIG = join(root, 'src', 'console', 'vite.config.ts');
const CONSOLE_STAMP = join(root, 'dist', 'console', '.build-stamp');

/** Newest modification time (ms) of the files under `paths` (tests aside). */
function newest(paths) {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!path.endsWith('.test.ts')) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const p of paths) visit(join(root, p));
  return newest;
}

/** Newest modification time (ms) of the files the build reads. */
const newestSource = () =>
  newest([
    'src',
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts/copy-assets.mjs',
    'scripts/build-console.mjs',
  ]);

/** True when dist/ is missing or older than the sources. */
export function buildIsStale() {
  return !existsSync(STAMP) || statSync(STAMP).mtimeMs < newestSource();
}

/** Records that dist/ now matches the sources. */
export function writeStamp() {
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

/** True when dist/console is missing or older than the console's sources. */
export function consoleBuildIsStale() {
  return (
    !existsSync(CONSOLE_STAMP) ||
    statSync(CONSOLE_STAMP).mtimeMs <
      newest(['src/console', 'scripts/build-console.mjs', 'package-lock.json'])
  );
}

/** Records that dist/console now matches the console's sources. */
export function writeConsoleStamp() {
  writeFileSync(CONSOLE_STAMP, `${new Date().toISOString()}\n`);
}
