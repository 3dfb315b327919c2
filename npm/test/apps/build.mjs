// Builds the small apps the browser tests and benchmarks record, with the real frameworks from
// npm, bundled by esbuild as an app would be: `node build.mjs OUT_DIR` writes OUT_DIR/<app>.js
// for each app directory here.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { compile } from 'svelte/compiler';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error('usage: node build.mjs OUT_DIR');
  process.exit(2);
}

// Svelte components compiled by the framework's own compiler, their CSS injected by the
// component as in a default Svelte build.
const svelte = {
  name: 'svelte',
  setup(build) {
    build.onLoad({ filter: /\.svelte$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const { js } = compile(source, { filename: path, generate: 'client', css: 'injected', dev: false });
      return { contents: js.code, loader: 'js', resolveDir: dirname(path) };
    });
  },
};

// The same todo app on React, Vue, Lit and jQuery (one DOM contract: #new, #list, #toggle-all,
// #filter, #clear, #note, #reset-note; React and Vue add #sync and save to the API `api.js`
// calls when the page gives them one), and a TodoMVC on Svelte.
const apps = { svelte: 'svelte/main.js', react: 'react/main.jsx', vue: 'vue/main.js', lit: 'lit/main.js', jquery: 'jquery/main.js' };
for (const [name, entry] of Object.entries(apps)) {
  await esbuild.build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: 'iife',
    minify: true,
    outfile: join(out, `${name}.js`),
    plugins: [svelte],
    conditions: ['browser'],
    jsx: 'automatic',
    // What the frameworks' production builds are configured with.
    define: {
      'process.env.NODE_ENV': '"production"',
      __VUE_OPTIONS_API__: 'true',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
    logLevel: 'warning',
  });
}
