/**
 * `npm run bench:bundle`: builds with Vite (minified) and prints the sizes, raw and gzipped, of the
 * script-tag module: what a page loads up front (`oracle-call.js` and its static imports), what a call
 * loads later (LiveKit, the widget API), and the E2EE worker. Budget: the up-front module graph
 * <= 80 KB gzipped. Exits 1 when over budget, or when the element's files carry matrix-js-sdk or its
 * crypto wasm (those belong to the page, whose client the element uses).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DIST, buildPages } from '../scripts/services/demo-server.ts';

const BUDGET_GZIP = 80 * 1024;

function size(file: string): { raw: number; gzip: number } {
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

/** The closure of static imports from `entries`. */
function staticGraph(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...imports(file).static);
  }
  return seen;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

await buildPages();
const entry = path.join(DIST, 'oracle-call.js');
const upFront = staticGraph([entry]);
const lazyEntries = [...upFront].flatMap((file) => imports(file).dynamic).filter((file) => !upFront.has(file));
const lazy = new Set([...staticGraph(lazyEntries)].filter((file) => !upFront.has(file)));
const worker = readdirSync(path.join(DIST, 'assets'))
  .filter((name) => /e2ee\.worker.*\.js$/.test(name))
  .map((name) => path.join(DIST, 'assets', name));

const total = (files: Iterable<string>) =>
  [...files].reduce(
    (sum, file) => {
      const s = size(file);
      return { raw: sum.raw + s.raw, gzip: sum.gzip + s.gzip };
    },
    { raw: 0, gzip: 0 },
  );
const rows: [string, { raw: number; gzip: number }, number][] = [
  ['script-tag module, up front (oracle-call.js + static imports)', total(upFront), upFront.size],
  ['loaded when a call starts (LiveKit, widget API, transports)', total(lazy), lazy.size],
  ['E2EE worker (its own file)', total(worker), worker.length],
];
process.stdout.write('\nBundle sizes (Vite, minified):\n\n');
for (const [name, s, files] of rows) {
  process.stdout.write(`  ${name.padEnd(64)} ${kb(s.raw).padStart(10)} raw  ${kb(s.gzip).padStart(9)} gzip  (${files} file${files === 1 ? '' : 's'})\n`);
}
const upFrontGzip = rows[0]![1].gzip;
const everything = upFrontGzip + rows[1]![1].gzip;
process.stdout.write(`\n  everything the element loads for a call (without the worker): ${kb(everything)} gzip\n`);
process.stdout.write(`  budget: up-front module <= ${kb(BUDGET_GZIP)} gzip -> ${upFrontGzip <= BUDGET_GZIP ? 'met' : 'OVER'} (${kb(upFrontGzip)})\n`);

// matrix-js-sdk (a log line of its client), its Rust crypto, the crypto's wasm: the demo pages' alone.
const PAGE_ONLY = [/sendEvent of type /, /matrix-sdk-crypto/, /\.wasm\b/];
const leaks = [...upFront, ...lazy, ...worker].filter((file) => PAGE_ONLY.some((pattern) => pattern.test(readFileSync(file, 'utf8'))));
const wasm = readdirSync(path.join(DIST, 'assets')).filter((name) => name.endsWith('.wasm'));
process.stdout.write(
  `  matrix-js-sdk and its crypto wasm in the element's files: ${leaks.length === 0 ? 'none' : leaks.map((file) => path.basename(file)).join(', ')}`,
);
process.stdout.write(
  ` (the demo pages' crypto wasm: ${wasm.map((name) => `${name}, ${kb(size(path.join(DIST, 'assets', name)).gzip)} gzip`).join('; ') || 'missing'})\n\n`,
);
process.exit(upFrontGzip <= BUDGET_GZIP && leaks.length === 0 ? 0 : 1);
