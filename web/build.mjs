// Bundles the page, the embedding API and the Worker into dist/ (after
// scripts/build-web.sh has put the wasm-bindgen output in dist/pkg/).
// Everything the page needs at run time is in dist/: no CDN.

import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const here = new URL('.', import.meta.url).pathname;
mkdirSync(`${here}dist`, { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: [
    { in: 'js/main.js', out: 'main' },
    { in: 'js/main.css', out: 'main' },
    { in: 'js/wax.js', out: 'wax' },
    { in: 'js/worker.js', out: 'worker' },
  ],
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
copyFileSync(`${here}static/index.html`, `${here}dist/index.html`);
