// `npm start`: builds only when dist/ is missing or older than the sources (the server and the
// console; a build takes ~9 s plus ~3 s for the console, a start of a current build well under
// one), then runs `stratus start` in this very process rather than in a child. npm's shell runs this one command directly and npm passes
// SIGTERM and SIGINT on to it, so a signal sent to npm, as a supervisor sends it, reaches the
// server itself: the port and the data-dir lock are freed when npm exits. A service manager
// runs `node bin/stratus.js start` itself and needs none of this.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildIsStale, consoleBuildIsStale } from './build-state.mjs';

const root = new URL('..', import.meta.url).pathname;

if (buildIsStale() || consoleBuildIsStale()) {
  process.stderr.write('stratus: building (dist/ is missing or older than the sources)\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  for (const step of [
    [tsc, '-p', 'tsconfig.build.json'],
    ['scripts/build-console.mjs'],
    ['scripts/copy-assets.mjs'],
  ]) {
    const r = spawnSync(process.execPath, step, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

process.argv = [
  process.argv[0],
  new URL('../bin/stratus.js', import.meta.url).pathname,
  'start',
  ...process.argv.slice(2),
];
await import('../bin/stratus.js');
