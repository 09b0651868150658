/**
 * `npm run build` → `dist/`:
 * - `oracle-call.js`: the script-tag ES module (defines `<oracle-call>`); LiveKit, the widget API and
 *   the E2EE worker are their own files, loaded when a call needs them;
 * - `widget/page/index.html`: the Matrix/Element widget page;
 * - `demo/index.html` and `demo/widget-host.html`: the demo pages the run command serves.
 * - `oracle-call-<hash>.js`, `integrity.json` and compressed copies (scripts/build/release-files.ts).
 * Minified explicitly (Vite 8 leaves library-style output unminified otherwise), and what the element
 * loads once more with terser (scripts/build/terser-pass.ts).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { reachable } from './scripts/build/reachable.ts';
import { releaseFiles } from './scripts/build/release-files.ts';
import { terserPass } from './scripts/build/terser-pass.ts';

/** The script-tag module's entry; what it imports statically is what a page loads up front. */
const ELEMENT_ENTRY = fileURLToPath(new URL('./widget/bundle-entry.ts', import.meta.url));
/** The demo pages' scripts: a site's own code, loaded from the site's origin, not the oracle's. */
const DEMO_SCRIPTS = ['./demo/page.ts', './demo/widget-host.ts'].map((file) => fileURLToPath(new URL(file, import.meta.url)));

interface ModuleGraph {
  getModuleInfo(id: string): { readonly importedIds: readonly string[]; readonly dynamicallyImportedIds: readonly string[] } | null;
}

/** The modules `entries` import, statically (and dynamically with `dynamic`), themselves included. */
function reach(graph: ModuleGraph, entries: readonly string[], dynamic: boolean): Set<string> {
  return reachable(entries, (id) => {
    const info = graph.getModuleInfo(id);
    return [...(info?.importedIds ?? []), ...(dynamic ? (info?.dynamicallyImportedIds ?? []) : [])];
  });
}

/**
 * Where a module the element's entry imports statically goes: into the element's one file, or, when a
 * demo page loads it too (Vite's preload helper), into a file of its own. A module in the element's
 * file that a page shares would make that page load a second copy of the element from its own origin.
 * Computed once per chunking pass.
 */
type UpFrontChunk = 'oracle-call-element' | 'shared';
const chunkOf = new WeakMap<ModuleGraph, Map<string, UpFrontChunk>>();
function upFrontChunk(graph: ModuleGraph, id: string): UpFrontChunk | undefined {
  let chunks = chunkOf.get(graph);
  if (!chunks) {
    const pages = reach(graph, DEMO_SCRIPTS, true);
    chunks = new Map([...reach(graph, [ELEMENT_ENTRY], false)].map((module) => [module, pages.has(module) ? 'shared' : 'oracle-call-element']));
    chunkOf.set(graph, chunks);
  }
  return chunks.get(id);
}

/** A code-splitting group of the modules {@link upFrontChunk} puts in `chunk`. */
const upFrontGroup = (chunk: UpFrontChunk, priority: number) => ({
  name: (id: string, graph: ModuleGraph) => (upFrontChunk(graph, id) === chunk ? chunk : null),
  priority,
});

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
      // livekit-client runs webrtc-adapter's shims as it loads; the element runs them itself, where they
      // can matter (widget/webrtc-shims.ts). Marked pure, the call in LiveKit's chunk goes, and the shims
      // with it; the adapter's own module keeps its call, whose result it exports.
      treeshake: { manualPureFunctions: ['adapterFactory', 'requireSdp'] },
      input: {
        'oracle-call': 'widget/bundle-entry.ts',
        widget: 'widget/page/index.html',
        demo: 'demo/index.html',
        'widget-host': 'demo/widget-host.html',
      },
      preserveEntrySignatures: 'exports-only',
      output: {
        entryFileNames: (chunk) => (chunk.name === 'oracle-call' ? 'oracle-call.js' : 'assets/[name]-[hash].js'),
        // What the element loads up front, in one file (and Vite's preload helper): split by what the
        // pages share with it, it was nine files, 3 KB gz more (each compressed apart). The call-time
        // chunks stay as they were.
        codeSplitting: {
          // Apart, or rolldown merges the shared modules into the element's file (an entry chunk).
          groups: [upFrontGroup('shared', 2), upFrontGroup('oracle-call-element', 1)],
        },
      },
    },
  },
  worker: { format: 'es' },
  // Files the element's code names (the E2EE worker) are found relative to the chunk that names them,
  // not at the site's root: the element works from any path, and a site's own bundler, building
  // `import 'oracle-call'` from the npm package, sees the worker and ships it with the site.
  experimental: { renderBuiltUrl: (_file, { hostType }) => (hostType === 'js' ? { relative: true } : undefined) },
  plugins: [terserPass('oracle-call.js'), releaseFiles()],
});
