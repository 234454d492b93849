// Bundles the page, the embedding API and the Worker into dist/ (after
// scripts/build-web.sh has put the wasm-bindgen output in dist/pkg/).
// Everything the page needs at run time is in dist/: no CDN.
//
// dist/wax.js (the embedding API, with xterm.js) and dist/worker.js sit
// side by side: wax.js finds the Worker next to itself. The page's own
// script, dist/main.js, imports ./wax.js rather than bundling a copy.

import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const here = new URL('.', import.meta.url).pathname;
const common = {
  absWorkingDir: here,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outdir: 'dist',
  logLevel: 'warning',
  // wasm-bindgen's glue lists one inline JS snippet once per import
  // (same module, same key): harmless.
  logOverride: { 'duplicate-object-key': 'silent' },
};
mkdirSync(`${here}dist`, { recursive: true });
await esbuild.build({
  ...common,
  entryPoints: [
    { in: 'js/wax.js', out: 'wax' },
    { in: 'js/worker.js', out: 'worker' },
    { in: 'js/main.css', out: 'main' },
  ],
});
await esbuild.build({
  ...common,
  entryPoints: [{ in: 'js/main.js', out: 'main' }],
  external: ['./wax.js'],
});
copyFileSync(`${here}static/index.html`, `${here}dist/index.html`);
