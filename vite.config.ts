/**
 * `npm run build` → `dist/`:
 * - `oracle-call.js`: the script-tag ES module (defines `<oracle-call>`); LiveKit, the widget API and
 *   the E2EE worker are their own files, loaded when a call needs them;
 * - `widget/page/index.html`: the Matrix/Element widget page;
 * - `demo/index.html` and `demo/widget-host.html`: the demo pages the run command serves.
 * - `oracle-call-<hash>.js`, `integrity.json` and compressed copies (scripts/build/release-files.ts).
 * Minified explicitly (Vite 8 leaves library-style output unminified otherwise).
 */
import { defineConfig } from 'vite';
import { releaseFiles } from './scripts/build/release-files.ts';

export default defineConfig({
  root: '.',
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        'oracle-call': 'widget/bundle-entry.ts',
        widget: 'widget/page/index.html',
        demo: 'demo/index.html',
        'widget-host': 'demo/widget-host.html',
      },
      preserveEntrySignatures: 'exports-only',
      output: {
        entryFileNames: (chunk) => (chunk.name === 'oracle-call' ? 'oracle-call.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  worker: { format: 'es' },
  // Files the element's code names (the E2EE worker) are found relative to the chunk that names them,
  // not at the site's root: the element works from any path, and a site's own bundler, building
  // `import 'oracle-call'` from the npm package, sees the worker and ships it with the site.
  experimental: { renderBuiltUrl: (_file, { hostType }) => (hostType === 'js' ? { relative: true } : undefined) },
  plugins: [releaseFiles()],
});
