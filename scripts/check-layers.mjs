// Holds the layer lines of the architecture: fails when a module imports across them.
//   src/ha    imports nothing outside src/ha (the kernel knows no cloud);
//   src/core  imports only src/core and src/ha (ports, not adapters);
//   src/kinds imports only src/kinds and src/core (backends through their ports);
//   src/control imports only src/control, src/core and src/ha (no API, no adapter);
//   src/config, the configuration contract, imports none of the command line, the process
//             wiring or the API, which all read it;
//   src/runtime, the process wiring, never imports the command line that starts it;
//   src/sim   the simulated cloud, imports only src/sim, src/core (the ports it implements)
//             and src/ha (its clock), and of npm only Fastify and prom-client (its server);
//   src/backends/http, the adapter of `stratus sim`, imports only itself, src/core and the
//             wire table src/sim/wire it shares with the server, and of npm only undici
//             (the HTTP client Node's fetch is built on, without fetch's per-call wrapping);
//   src/cli/client, the client commands, talk to a server over HTTP only: they import only
//             themselves, src/core and the kind registry src/kinds (for help, completion and
//             tables offline), and of npm only yaml;
//   src/drill/check and src/drill/report, pure functions of a run's files, import only
//             src/drill and the simulator's audit types, and of npm only TypeBox.
//   src/console, the web console, runs in a browser and talks to the API over HTTP only: it
//             imports nothing outside src/console, and of npm only Preact (and Vite, its build).
// Test files are exempt: they may use the shared test helpers and the migrations.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The tree to check: the repository, or the one given (the checker's own test).
const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
// A rule names what a layer may import (`allowed`) or what it may not (`forbidden`), and
// optionally the only npm packages it may use (`packages`; `node:` built-ins always).
const rules = [
  { layer: 'src/ha', allowed: ['src/ha'] },
  { layer: 'src/core', allowed: ['src/core', 'src/ha'] },
  { layer: 'src/kinds', allowed: ['src/kinds', 'src/core'] },
  { layer: 'src/control', allowed: ['src/control', 'src/core', 'src/ha'] },
  { layer: 'src/config', forbidden: ['src/cli', 'src/runtime', 'src/api'] },
  { layer: 'src/runtime', forbidden: ['src/cli'] },
  { layer: 'src/sim', allowed: ['src/sim', 'src/core', 'src/ha'], packages: ['fastify', 'prom-client'] },
  {
    layer: 'src/backends/http',
    allowed: ['src/backends/http', 'src/core', 'src/sim/wire'],
    packages: ['undici', '@opentelemetry/api'],
  },
  { layer: 'src/cli/client', allowed: ['src/cli/client', 'src/core', 'src/kinds'], packages: ['yaml'] },
  { layer: 'src/drill/check', allowed: ['src/drill', 'src/sim/audit'], packages: ['typebox'] },
  { layer: 'src/drill/report', allowed: ['src/drill', 'src/sim/audit'], packages: ['typebox'] },
  { layer: 'src/console', allowed: ['src/console'], packages: ['preact', 'vite'] },
];
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
const within = (target, dirs) => dirs.some((a) => target === a || target.startsWith(`${a}/`));

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.tsx?$/.test(path) && !/\.test\.tsx?$/.test(path)) yield path;
  }
}

const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const violations = [];
for (const { layer, allowed, forbidden = [], packages } of rules) {
  const dir = join(root, layer);
  try {
    statSync(dir);
  } catch {
    continue;
  }
  for (const file of files(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) {
        if (packages && !spec.startsWith('node:') && !packages.includes(packageOf(spec))) {
          const may = packages.length === 0 ? 'no npm package' : `only ${packages.join(', ')} of npm`;
          violations.push(`${relative(root, file)} imports ${spec} (${layer} may import ${may})`);
        }
        continue;
      }
      const target = relative(root, resolve(dirname(file), spec));
      if (allowed && !within(target, allowed)) {
        violations.push(
          `${relative(root, file)} imports ${spec} (${layer} may import only ${allowed.join(', ')})`,
        );
      } else if (within(target, forbidden)) {
        violations.push(
          `${relative(root, file)} imports ${spec} (${layer} may not import ${forbidden.join(', ')})`,
        );
      }
    }
  }
}
if (violations.length > 0) {
  console.error(`layer check failed:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
