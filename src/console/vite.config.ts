// The console's build: src/console → dist/console, served by the API at /console. Preact's JSX
// through the bundler's own transform (no Babel preset), one hashed script and one hashed
// stylesheet under assets/, nothing inlined (the CSP admits no inline script or style), no
// module-preload polyfill (an inline script) and no source maps in the served tree.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
