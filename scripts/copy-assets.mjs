// Copies the SQL and Lua files next to the compiled JavaScript so that the loaders,
// which resolve them relative to their own module, find them in dist/ as in src/; then
// stamps the build (the last step of `npm run build`), so `npm start` knows it is current.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeStamp } from './build-state.mjs';

const src = new URL('../src/', import.meta.url).pathname;
const dist = new URL('../dist/', import.meta.url).pathname;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(sql|lua)$/.test(name)) cpSync(path, join(dist, relative(src, path)));
  }
}
walk(src);
writeStamp();
