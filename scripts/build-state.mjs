// Whether dist/ holds a build of the current sources: the build writes dist/.build-stamp as its
// last step, and the build is stale when any compiled source or compiler setting is newer.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const STAMP = join(root, 'dist', '.build-stamp');

/** Newest modification time (ms) of the files the build reads. */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!path.endsWith('.test.ts')) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  visit(join(root, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'scripts/copy-assets.mjs']) visit(join(root, f));
  return newest;
}

/** True when dist/ is missing or older than the sources. */
export function buildIsStale() {
  return !existsSync(STAMP) || statSync(STAMP).mtimeMs < newestSource();
}

/** Records that dist/ now matches the sources. */
export function writeStamp() {
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
