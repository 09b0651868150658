/**
 * A Vite plugin that runs terser (`compress`, two passes, and `mangle`) over the chunks the element
 * loads, after Vite's own minifier (oxc): on oxc's output it finds what oxc leaves (1.0 KB gzipped of a
 * script-tag call, half of it in LiveKit's chunk). terser alone, in oxc's place, does worse: rolldown's
 * minifier also removes code that terser keeps (LiveKit's chunk 5 KB more). Only terser's safe
 * transforms are on (no `unsafe*` option). It adds about 7 s to a build on the 2-core machine (rolldown
 * reports it in its plugin timings); the demo pages' chunks are the site's own and are left as they
 * are (the largest, matrix-js-sdk, would add more). Chunk names keep the hash of oxc's output, which
 * the same sources give again.
 */
import type { MinifyOptions } from 'terser';
import { minify } from 'terser';
import type { Plugin, Rolldown } from 'vite';
import { reachable } from './reachable.ts';

const TERSER: MinifyOptions = { module: true, ecma: 2020, compress: { passes: 2 }, mangle: true };
const SOURCE_MAP_COMMENT = /\n?\/\/# sourceMappingURL=\S+\s*$/;

/** The chunks reachable from `entry`, statically or dynamically: what the element may load. */
function chunksFrom(bundle: Rolldown.OutputBundle, entry: string): Rolldown.OutputChunk[] {
  const chunk = (name: string) => (bundle[name]?.type === 'chunk' ? (bundle[name] as Rolldown.OutputChunk) : undefined);
  const names = reachable([entry], (name) => {
    const found = chunk(name);
    return found ? [...found.imports, ...found.dynamicImports] : [];
  });
  return [...names].map(chunk).filter((found) => found !== undefined);
}

/** terser over the chunks reachable from the entry file `entry` (e.g. `oracle-call.js`), source maps kept. */
export function terserPass(entry: string): Plugin {
  return {
    name: 'oracle-call-terser-pass',
    apply: 'build',
    generateBundle: {
      // After Vite's own generateBundle, which writes the preload helper's dependency lists.
      order: 'post',
      async handler(_options, bundle) {
        if (!bundle[entry]) return; // a worker's build
        for (const chunk of chunksFrom(bundle, entry)) {
          const comment = chunk.code.match(SOURCE_MAP_COMMENT)?.[0] ?? '';
          const mapAsset = bundle[`${chunk.fileName}.map`];
          const map = mapAsset?.type === 'asset' ? String(mapAsset.source) : undefined;
          const result = await minify(chunk.code.replace(SOURCE_MAP_COMMENT, ''), {
            ...TERSER,
            ...(map ? { sourceMap: { content: map } } : {}),
          });
          if (result.code === undefined) throw new Error(`terser gave no code for ${chunk.fileName}`);
          chunk.code = result.code + comment;
          if (mapAsset?.type === 'asset' && typeof result.map === 'string') mapAsset.source = result.map;
        }
      },
    },
  };
}
