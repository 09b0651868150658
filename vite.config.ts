/**
 * `npm run build` → `dist/`:
 * - `oracle-call.js`: the script-tag ES module (defines `<oracle-call>`); LiveKit, the widget API and
 *   the E2EE worker are their own files, loaded when a call needs them;
 * - `widget/page/index.html`: the Matrix/Element widget page;
 * - `demo/index.html` and `demo/widget-host.html`: the demo pages the run command serves.
 * Minified explicitly (Vite 8 leaves library-style output unminified otherwise).
 */
import { defineConfig } from 'vite';

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
});
