/**
 * A Vite plugin for what a site needs to load the built element from the oracle's origin, written after
 * the bundle (`npm run build`):
 * - `oracle-call-<hash>.js`: the script-tag module under a name that carries its content's hash, so a
 *   site can pin this build and cache it for good (same folder as `oracle-call.js`, so its imports of
 *   `./assets/…` resolve alike);
 * - `integrity.json`: the Subresource Integrity hash (SHA-384) of every file served, and the pinned
 *   tag, which the build also prints;
 * - `.br` and `.gz` beside every script, style sheet and page served, which the backend sends to
 *   browsers that accept them (element-files.ts): compressed once here, not per request.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** What the backend serves of `dist/` (server/element-files.ts): the demo pages are not among them. */
const SERVED_FOLDERS = ['', 'assets', 'widget/page'];
const COMPRESSED = /\.(js|css|html|json|svg)$/;

export const integrityOf = (bytes: Buffer) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

export interface ReleaseManifest {
  /** The content-hashed copy of `oracle-call.js`. */
  readonly entry: string;
  /** Every served file (relative to `dist/`) → its SRI hash. */
  readonly files: Record<string, string>;
}

export function releaseFiles(): Plugin {
  let outDir = 'dist';
  return {
    name: 'oracle-call-release-files',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle: {
      sequential: true,
      order: 'post',
      handler() {
        const entryBytes = readFileSync(path.join(outDir, 'oracle-call.js'));
        const entry = `oracle-call-${createHash('sha256').update(entryBytes).digest('base64url').slice(0, 10)}.js`;
        writeFileSync(path.join(outDir, entry), entryBytes);
        const files: Record<string, string> = {};
        for (const folder of SERVED_FOLDERS) {
          for (const item of readdirSync(path.join(outDir, folder), { withFileTypes: true })) {
            if (!item.isFile() || item.name.endsWith('.map') || item.name.endsWith('.gz') || item.name.endsWith('.br')) continue;
            const relative = path.posix.join(folder, item.name);
            const bytes = readFileSync(path.join(outDir, relative));
            if (/\.(js|css|html|wasm)$/.test(item.name)) files[relative] = integrityOf(bytes);
            if (COMPRESSED.test(item.name) && bytes.length > 1024) {
              writeFileSync(path.join(outDir, `${relative}.gz`), gzipSync(bytes, { level: 9 }));
              writeFileSync(
                path.join(outDir, `${relative}.br`),
                // The best Brotli costs seconds on the demo's megabyte chunks; they need less.
                brotliCompressSync(bytes, {
                  params: { [constants.BROTLI_PARAM_QUALITY]: bytes.length > 256 * 1024 ? 9 : 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
                }),
              );
            }
          }
        }
        const manifest: ReleaseManifest = { entry, files };
        writeFileSync(path.join(outDir, 'integrity.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        process.stdout.write(
          `oracle-call: pin this build with\n  <script type="module" src="https://your-oracle.example/${entry}" integrity="${files[entry]}" crossorigin="anonymous"></script>\n`,
        );
      },
    },
  };
}
