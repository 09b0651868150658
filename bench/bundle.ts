/**
 * `npm run bench:bundle`: builds with Vite (minified) and prints the sizes, raw and gzipped, of the
 * script-tag module: what a page loads up front (`oracle-call.js` and its static imports), and what a
 * call loads later for each Matrix transport — a page that hands the element its Matrix client (the
 * script-tag call), and a page run as a widget (the widget API) — then the languages (each loaded only
 * when used) and the E2EE worker. A transport's call loads LiveKit's media session, that transport's
 * module and what it imports, and the API schemas (the first backend request).
 *
 * Budgets: the up-front module graph <= 80 KB gzipped; everything a script-tag call loads (up front and
 * at call time, worker apart) <= 170 KB gzipped. Exits 1 when over a budget, when a transport's call
 * would load another transport's module (the widget API on a page-client call), or when the element's
 * files carry matrix-js-sdk or its crypto wasm (those belong to the page, whose client the element uses).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { reachable } from '../scripts/build/reachable.ts';
import { DIST, buildPages } from '../scripts/services/demo-server.ts';
import { CHROMIUM_WITHOUT_SHIMS } from '../widget/webrtc-shims.ts';

const UP_FRONT_BUDGET = 80 * 1024;
const SCRIPT_TAG_CALL_BUDGET = 170 * 1024;

interface Size {
  readonly raw: number;
  readonly gzip: number;
}

function size(file: string): Size {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Files a chunk imports, statically (`import … from "./x.js"`, `import "./x.js"`) or dynamically (`import("./x.js")`). */
function imports(file: string): { static: string[]; dynamic: string[] } {
  const code = readFileSync(file, 'utf8');
  const resolve = (spec: string) => path.resolve(path.dirname(file), spec);
  const statics = [...code.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[^'"`()]*?from\s*)?["'`](\.{1,2}\/[^"'`]+\.js)["'`]/g)].map((m) => resolve(m[1]!));
  const dynamics = [...code.matchAll(/import\(\s*["'`](\.{1,2}\/[^"'`]+\.js)["'`]\s*\)/g)].map((m) => resolve(m[1]!));
  return { static: [...new Set(statics)], dynamic: [...new Set(dynamics)] };
}

/** The chunk that carries a module (read from the chunks' source maps), e.g. `widget/livekit-media-session.ts`. */
function chunkOf(chunks: readonly string[], module: string): string {
  const found = chunks.filter((file) => {
    if (!existsSync(`${file}.map`)) return false; // a re-export stub
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
    // By the path's end: node_modules may be a link to another folder.
    return map.sources.some((source) => path.resolve(path.dirname(file), source).endsWith(`/${module}`));
  });
  if (found.length !== 1) throw new Error(`expected one chunk with ${module}, found ${found.length}`);
  return found[0]!;
}

/**
 * What a call adds to the up-front files: the closure of static imports from `entries`, and of dynamic
 * ones from the files in `also` (the widget transport loads matrix-widget-api), up-front files left out.
 */
function loadedWith(entries: readonly string[], upFront: ReadonlySet<string>, also: readonly string[] = []): Set<string> {
  const beyond = (files: readonly string[]) => files.filter((file) => !upFront.has(file));
  return reachable(beyond(entries), (file) => {
    const found = imports(file);
    return beyond([...found.static, ...(also.includes(file) ? found.dynamic : [])]);
  });
}

const total = (files: Iterable<string>): Size =>
  [...files].reduce(
    (sum, file) => {
      const s = size(file);
      return { raw: sum.raw + s.raw, gzip: sum.gzip + s.gzip };
    },
    { raw: 0, gzip: 0 },
  );
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const names = (files: Iterable<string>) => [...files].map((file) => path.basename(file)).join(', ');

await buildPages();
const assets = path.join(DIST, 'assets');
const chunks = readdirSync(assets)
  .filter((name) => name.endsWith('.js') && !/e2ee\.worker/.test(name))
  .map((name) => path.join(assets, name));
const entry = path.join(DIST, 'oracle-call.js');
const upFront = reachable([entry], (file) => imports(file).static);

const media = chunkOf(chunks, 'widget/livekit-media-session.ts');
const api = chunkOf(chunks, 'protocol/api/schemas.ts');
const pageClient = chunkOf(chunks, 'widget/transport/matrix-client-transport.ts');
const widgetApi = chunkOf(chunks, 'widget/transport/widget-api-transport.ts');
const widgetApiLibrary = chunkOf(chunks, 'node_modules/matrix-widget-api/lib/WidgetApi.js');
const locales = ['de', 'es', 'fr'].map((language) => chunkOf(chunks, `widget/i18n/locales/${language}.ts`));
const worker = readdirSync(assets)
  .filter((name) => /e2ee\.worker.*\.js$/.test(name))
  .map((name) => path.join(assets, name));

const shims = chunkOf(chunks, 'node_modules/webrtc-adapter/src/js/adapter_core.js');

// A recent Chromium loads no shims; every other browser loads webrtc-adapter's chunk before LiveKit.
const pageCall = loadedWith([media, api, pageClient], upFront);
const widgetCall = loadedWith([media, api, widgetApi], upFront, [widgetApi]);
const shimsCall = loadedWith([shims], new Set([...upFront, ...pageCall]));
const language = loadedWith([locales[0]!], upFront);

const rows: [string, Set<string> | string[]][] = [
  ['up front (oracle-call.js + static imports)', upFront],
  ['at call time, page client (.matrixClient)', pageCall],
  ['at call time, widget API (page run as a widget)', widgetCall],
  ['+ webrtc-adapter, browsers but recent Chromium', shimsCall],
  ['one more language, when used (de)', language],
  ['E2EE worker (its own file)', worker],
];
process.stdout.write('\nBundle sizes (Vite, minified; gzip -9):\n\n');
for (const [name, files] of rows) {
  const s = total(files);
  const count = [...files].length;
  process.stdout.write(`  ${name.padEnd(50)} ${kb(s.raw).padStart(10)} raw  ${kb(s.gzip).padStart(9)} gzip  (${count} file${count === 1 ? '' : 's'})\n`);
}
process.stdout.write('\n  at call time, the largest files:\n');
for (const file of [...new Set([...pageCall, ...widgetCall])].sort((a, b) => size(b).gzip - size(a).gzip).slice(0, 5)) {
  process.stdout.write(`    ${path.basename(file).padEnd(46)} ${kb(size(file).gzip).padStart(9)} gzip\n`);
}

const upFrontGzip = total(upFront).gzip;
const scriptTagCall = upFrontGzip + total(pageCall).gzip;
const widgetPageCall = upFrontGzip + total(widgetCall).gzip;
const shimsGzip = total(shimsCall).gzip;
process.stdout.write(`\n  a script-tag call (page client), up front + call time, worker apart: ${kb(scriptTagCall)} gzip\n`);
process.stdout.write(`  a widget call (widget API), up front + call time, worker apart:     ${kb(widgetPageCall)} gzip\n`);
process.stdout.write(
  `  the same in Firefox, Safari and Chromium before ${CHROMIUM_WITHOUT_SHIMS} (webrtc-adapter's shims): ${kb(scriptTagCall + shimsGzip)} and ${kb(widgetPageCall + shimsGzip)} gzip\n`,
);
const upFrontMet = upFrontGzip <= UP_FRONT_BUDGET;
const callMet = scriptTagCall <= SCRIPT_TAG_CALL_BUDGET;
process.stdout.write(`  budget: up front <= ${kb(UP_FRONT_BUDGET)} gzip -> ${upFrontMet ? 'met' : 'OVER'} (${kb(upFrontGzip)})\n`);
process.stdout.write(`  budget: a script-tag call <= ${kb(SCRIPT_TAG_CALL_BUDGET)} gzip -> ${callMet ? 'met' : 'OVER'} (${kb(scriptTagCall)})\n`);

// A page-client call must not load the widget API, nor a widget call the page-client transport.
const crossed = [...[...pageCall].filter((file) => file === widgetApi || file === widgetApiLibrary), ...[...widgetCall].filter((file) => file === pageClient)];
process.stdout.write(`  another transport's module in a call: ${crossed.length === 0 ? 'none' : names(crossed)}\n`);

// LiveKit's chunk must not run the shims itself (the build's pure mark on their start-up call).
const shimsInLiveKit = /adapter\.js shimming/.test(readFileSync(media, 'utf8'));
process.stdout.write(`  webrtc-adapter's shims in LiveKit's chunk: ${shimsInLiveKit ? 'YES' : 'none'}; in their own chunk: ${path.basename(shims)}\n`);

// matrix-js-sdk (a log line of its client), its Rust crypto, the crypto's wasm: the demo pages' alone.
const PAGE_ONLY = [/sendEvent of type /, /matrix-sdk-crypto/, /\.wasm\b/];
const elementFiles = new Set([...upFront, ...pageCall, ...widgetCall, ...locales, ...worker]);
const leaks = [...elementFiles].filter((file) => PAGE_ONLY.some((pattern) => pattern.test(readFileSync(file, 'utf8'))));
const wasm = readdirSync(assets).filter((name) => name.endsWith('.wasm'));
process.stdout.write(`  matrix-js-sdk and its crypto wasm in the element's files: ${leaks.length === 0 ? 'none' : names(leaks)}`);
process.stdout.write(
  ` (the demo pages' crypto wasm: ${wasm.map((name) => `${name}, ${kb(size(path.join(assets, name)).gzip)} gzip`).join('; ') || 'missing'})\n\n`,
);
process.exit(upFrontMet && callMet && !shimsInLiveKit && crossed.length === 0 && leaks.length === 0 ? 0 : 1);
